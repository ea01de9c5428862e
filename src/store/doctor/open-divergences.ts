/** Check 5: divergences recorded and not repaired. */
import type { DoctorCheck } from './finding.js'
import { controlSchema } from '../../db/control-schema.js'

export const openDivergencesCheck: DoctorCheck = async (db, { schema, migration }) => {
  const { rows } = await db.query<{ n: number; oldest: Date | null; kinds: string | null }>(
    `SELECT coalesce(sum(n), 0)::int AS n, min(oldest) AS oldest, string_agg(n || ' ' || kind, ', ' ORDER BY kind) AS kinds
       FROM (SELECT kind, count(*) AS n, min(first_seen) AS oldest
               FROM ${controlSchema(schema).quoted}.divergences WHERE migration = $1 AND repaired_at IS NULL GROUP BY kind) d`,
    [migration.name],
  )
  const row = rows[0]
  if (!row || row.n === 0 || !row.oldest) return []
  return [
    {
      migration: migration.name,
      severity: 'error',
      code: 'divergences_open',
      message: `${row.n} unrepaired divergence(s) (${row.kinds ?? ''}), the oldest first seen ${row.oldest.toISOString()}`,
      command: `cutover repair ${migration.name}`,
    },
  ]
}
