/** Check 4: a running backfill (or verify) whose progress has not moved for the stale threshold. */
import type { DoctorCheck } from './finding.js'
import { controlSchema } from '../../db/control-schema.js'

export const stalledJobsCheck: DoctorCheck = async (db, { schema, migration, thresholds }) => {
  const s = controlSchema(schema).quoted
  const { rows } = await db.query<{ id: string; kind: string; rows_done: string; updated_at: Date; idle: number }>(
    `SELECT id::text AS id, kind, rows_done::text AS rows_done, updated_at, extract(epoch FROM clock_timestamp() - updated_at)::float8 AS idle
       FROM ${s}.jobs
      WHERE migration = $1 AND status = 'running' AND updated_at < clock_timestamp() - make_interval(secs => $2)
      ORDER BY id`,
    [migration.name, thresholds.staleAfterSeconds],
  )
  return rows.map((r) => ({
    migration: migration.name,
    severity: 'error' as const,
    code: 'job_stalled',
    message: `${r.kind} job ${r.id} has not advanced for ${Math.round(r.idle)} s (${r.rows_done} rows done, last progress ${r.updated_at.toISOString()}); if no process runs it, resume it; if one does, look for a transaction holding locks (long_transaction)`,
    command: `cutover ${r.kind} ${migration.name}`,
  }))
}
