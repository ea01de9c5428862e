/** Reads the facts the gates judge (precheck, backfill, verify, soak, divergences) from the control schema; parity gaps are read by actions/migration-gate.ts. */
import type { Evidence, PrecheckEvidence } from '../../core/gates.js'
import { DEFINITION_VERSION_SQL } from '../state/state-row.js'
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'

interface Row {
  backfill_finished_at: Date | null
  verify_at: Date | null
  verify_clean: boolean | null
  full_reads_since: Date | null
  shadow_primary_since: Date | null
  divergences: number
  calibration_at: Date | null
  calibration_noisy: boolean | null
  definition_version: string | null
  precheck: { at: Date; details: Record<string, unknown> } | null
  now: Date
}

export async function readEvidence(
  db: Queryable,
  schema: string,
  migration: string,
  soakSeconds: number,
): Promise<Evidence> {
  const s = controlSchema(schema).quoted
  const { rows } = await db.query<Row>(
    `SELECT
       (SELECT max(finished_at) FROM ${s}.jobs WHERE migration = $1 AND kind = 'backfill' AND status = 'done') AS backfill_finished_at,
       v.at AS verify_at, (v.details ->> 'clean')::boolean AS verify_clean,
       st.full_reads_since,
       CASE WHEN st.phase = 'shadow_primary' THEN
         -- A group's member enters shadow_primary by its group's event (sql/0009).
         (SELECT max(at) FROM ${s}.events WHERE (migration = $1 OR group_name = (SELECT definition ->> 'group' FROM ${s}.migrations WHERE name = $1))
             AND to_phase = 'shadow_primary' AND from_phase IS DISTINCT FROM 'shadow_primary') END AS shadow_primary_since,
       (SELECT count(*)::int FROM ${s}.divergences
          WHERE migration = $1 AND st.full_reads_since IS NOT NULL AND last_seen >= st.full_reads_since) AS divergences,
       c.at AS calibration_at, (c.details ->> 'noisy')::boolean AS calibration_noisy,
       ${DEFINITION_VERSION_SQL('st')} AS definition_version,
       (SELECT json_build_object('at', at, 'details', details) FROM ${s}.events WHERE migration = $1 AND kind = 'precheck' ORDER BY id DESC LIMIT 1) AS precheck,
       clock_timestamp() AS now
     FROM ${s}.state st
     LEFT JOIN LATERAL (SELECT at, details FROM ${s}.events WHERE migration = $1 AND kind = 'verify' ORDER BY id DESC LIMIT 1) v ON true
     LEFT JOIN LATERAL (SELECT at, details FROM ${s}.events WHERE migration = $1 AND kind = 'calibrate' ORDER BY id DESC LIMIT 1) c ON true
     WHERE st.migration = $1`,
    [migration],
  )
  const row = rows[0]
  return {
    backfillFinishedAt: row?.backfill_finished_at ?? undefined,
    lastVerify: row?.verify_at ? { at: row.verify_at, clean: row.verify_clean === true } : undefined,
    fullReadsSince: row?.full_reads_since ?? undefined,
    shadowPrimarySince: row?.shadow_primary_since ?? undefined,
    divergencesSinceFullReads: row?.divergences ?? 0,
    lastCalibration: row?.calibration_at
      ? { at: row.calibration_at, noisy: row.calibration_noisy === true }
      : undefined,
    parityGaps: undefined,
    definitionVersion: Number(row?.definition_version ?? 1),
    lastPrecheck: precheckEvidence(row?.precheck ?? null),
    soakSeconds,
    now: row?.now ?? new Date(),
  }
}

function precheckEvidence(event: Row['precheck']): PrecheckEvidence | undefined {
  if (!event) return undefined
  const d = event.details
  const classes = Array.isArray(d.classes) ? (d.classes as PrecheckEvidence['classes']) : []
  return {
    at: new Date(event.at),
    clean: d.clean === true,
    definitionVersion: Number(d.definitionVersion ?? 0),
    failingRows: Number(d.failingRows ?? 0),
    classes,
  }
}
