/** Check 2: a running job has chunks whose lease ran out, so the worker that held them is gone. */
import type { DoctorCheck } from './finding.js'
import { controlSchema } from '../../db/control-schema.js'

export const expiredLeasesCheck: DoctorCheck = async (db, { schema, migration }) => {
  const s = controlSchema(schema).quoted
  const { rows } = await db.query<{ id: string; kind: string; chunks: number; workers: string | null; oldest: Date }>(
    `SELECT j.id::text AS id, j.kind, count(*)::int AS chunks, string_agg(DISTINCT ch.leased_by, ', ') AS workers, min(ch.lease_until) AS oldest
       FROM ${s}.jobs j JOIN ${s}.job_chunks ch ON ch.job_id = j.id
      WHERE j.migration = $1 AND j.status = 'running' AND ch.status = 'leased' AND ch.lease_until < clock_timestamp()
      GROUP BY j.id, j.kind ORDER BY j.id`,
    [migration.name],
  )
  return rows.map((r) => ({
    migration: migration.name,
    severity: 'error' as const,
    code: 'lease_expired',
    message: `${r.kind} job ${r.id}: ${r.chunks} chunk(s) leased by ${r.workers ?? 'an unnamed worker'} expired at ${r.oldest.toISOString()} (that worker is gone); running the same command again takes them over`,
    command: `cutover ${r.kind} ${migration.name}`,
  }))
}
