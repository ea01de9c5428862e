/** What every state-changing operator action takes and returns, from the CLI and from code alike. */
import type { Phase } from '../core/phases.js'
import type { StateLockWait } from '../store/state/with-state-lock.js'
import type { UnacknowledgedInstance } from './acknowledgements.js'

export interface ActionOptions {
  readonly schema: string
  /** A migration's name, or a group's (every member then moves in one transaction and one event). */
  readonly migration: string
  readonly actor: string
  readonly reason?: string | undefined
  /**
   * Override an evidence gate (no backfill, no clean verify, the soak); the event
   * records which gate and why. Never stands in for `confirm`.
   */
  readonly force?: boolean
  /** How long to wait for listening processes to acknowledge; default 1000 ms. */
  readonly ackTimeoutMs?: number
  /** Extra facts for the event row (a guardrail's bound and measured value). */
  readonly details?: Record<string, unknown>
  /**
   * The longest wait for the lock on the migration's state row (default 30 s),
   * held by another transaction; then the action fails with StateLocked (exit
   * code 3), naming the session that holds it, and changes nothing.
   */
  readonly lockWaitMs?: number
  /** Told, while the action waits for that lock, which session holds it. Default: a warning on stderr. */
  readonly onLockWait?: (wait: StateLockWait, message: string) => void
}

/** Where an Unleash-routed migration's toggle is kept in step (`ramp`, `rollback`). */
export interface UnleashMirrorOptions {
  /** Unleash API URL; else env `UNLEASH_URL`. */
  readonly url?: string | undefined
  /** Where `UNLEASH_URL`, `UNLEASH_ADMIN_TOKEN`, `UNLEASH_PROJECT`, `UNLEASH_ENVIRONMENT` are read; default process.env. */
  readonly env?: NodeJS.ProcessEnv
}

export interface PhaseView {
  readonly phase: Phase
  readonly readPercent: number
}

export interface ActionResult {
  readonly migration: string
  readonly from: PhaseView
  readonly to: PhaseView
  readonly changed: boolean
  /** Listening processes that applied the new state within the acknowledgement window. */
  readonly acknowledged: number
  /** Listening processes alive (heartbeat within 30 s). */
  readonly listeners: number
  /** The live processes that had not applied it when the window closed. */
  readonly unacknowledged: readonly UnacknowledgedInstance[]
  /** Set when an evidence gate was overridden with `force`. */
  readonly overriddenGate?: string
  /** For a group (`migration` is then the group's name): its members, all moved in the one change. */
  readonly members?: readonly string[]
}
