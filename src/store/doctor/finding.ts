/** What `cutover doctor` reports, and the shape of one check: a function from a target to its findings. */
import type pg from 'pg'

export type Severity = 'error' | 'warning' | 'info'

/** One thing found wrong, with the command that fixes it. */
export interface Finding {
  /** The migration it concerns; null for a global finding (the control schema, listeners). */
  readonly migration: string | null
  readonly severity: Severity
  /** Stable name of the finding (`lease_expired`, …), documented in runbooks/doctor.md. */
  readonly code: string
  /** One line: what is wrong, with the facts that show it. */
  readonly message: string
  /** The command (or SQL, as text) that fixes it; null when there is none to suggest. */
  readonly command: string | null
  /** A read-only query that lists the rows concerned (orphans). */
  readonly query?: string
  /** SQL that `doctor --apply` runs, in one transaction with every other finding's. */
  readonly applySql?: readonly string[]
}

/** Limits past which a fact becomes a finding, in seconds. */
export interface DoctorThresholds {
  /** A heartbeat, a running job's progress, or an acknowledgement older than this is stale. */
  readonly staleAfterSeconds: number
  /** In ramp or shadow_primary, a clean verify older than this no longer counts as evidence. */
  readonly evidenceMaxAgeSeconds: number
  /** A transaction holding a lock on either table for longer than this is reported. */
  readonly lockAgeSeconds: number
}

export const DEFAULT_THRESHOLDS: DoctorThresholds = {
  staleAfterSeconds: 60,
  evidenceMaxAgeSeconds: 86_400,
  lockAgeSeconds: 60,
}

/** A registered migration as the checks see it. */
export interface MigrationFacts {
  readonly name: string
  readonly phase: string
  readonly readPercent: number
  readonly version: number
  readonly legacyOid: number
  readonly shadowOid: number
  readonly legacyTable: string
  readonly shadowTable: string
}

export interface GlobalTarget {
  readonly schema: string
  readonly thresholds: DoctorThresholds
}

export interface DoctorTarget extends GlobalTarget {
  readonly migration: MigrationFacts
}

/** A check of one migration. The client is dedicated to the doctor run (checks may open and roll back a transaction). */
export type DoctorCheck = (db: pg.ClientBase, target: DoctorTarget) => Promise<Finding[]>

/** A check of the whole control schema. */
export type GlobalDoctorCheck = (db: pg.ClientBase, target: GlobalTarget) => Promise<Finding[]>
