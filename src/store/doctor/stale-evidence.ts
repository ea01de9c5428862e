/** Check 1: in ramp or shadow_primary, the verify the gates relied on no longer holds (missing, unclean, old, or overtaken). */
import type { DoctorCheck } from './finding.js'
import { controlSchema } from '../../db/control-schema.js'

const PHASES_NEEDING_EVIDENCE = new Set(['ramp', 'shadow_primary'])

interface Row {
  verify_at: Date | null
  clean: boolean | null
  age_seconds: number | null
  changed_kind: string | null
  changed_at: Date | null
  divergences_after: number
}

export const staleEvidenceCheck: DoctorCheck = async (db, { schema, migration, thresholds }) => {
  if (!PHASES_NEEDING_EVIDENCE.has(migration.phase)) return []
  const s = controlSchema(schema).quoted
  const { rows } = await db.query<Row>(
    `SELECT v.at AS verify_at, (v.details ->> 'clean')::boolean AS clean,
            extract(epoch FROM clock_timestamp() - v.at)::float8 AS age_seconds,
            w.kind AS changed_kind, w.at AS changed_at,
            (SELECT count(*)::int FROM ${s}.divergences d WHERE d.migration = $1 AND d.last_seen > v.at) AS divergences_after
       FROM (SELECT 1) one
       LEFT JOIN LATERAL (SELECT id, at, details FROM ${s}.events WHERE migration = $1 AND kind = 'verify' ORDER BY id DESC LIMIT 1) v ON true
       LEFT JOIN LATERAL (SELECT kind, at FROM ${s}.events
                           WHERE migration = $1 AND kind IN ('backfill', 'repair') AND id > v.id ORDER BY id DESC LIMIT 1) w ON true`,
    [migration.name],
  )
  const row = rows[0]
  const where = `${migration.name} is in ${migration.phase}${migration.phase === 'ramp' ? ` at ${migration.readPercent}%` : ''}`
  if (!row?.verify_at) {
    return [
      {
        migration: migration.name,
        severity: 'error',
        code: 'evidence_missing',
        message: `${where} with no verify on record`,
        command: `cutover verify ${migration.name}`,
      },
    ]
  }
  if (row.clean !== true) {
    const repaired = row.changed_kind === 'repair' && row.changed_at
    return [
      {
        migration: migration.name,
        severity: 'error',
        code: 'evidence_not_clean',
        message: `${where} but its last verify (${row.verify_at.toISOString()}) found differences${repaired ? `; a repair ran after it (${row.changed_at?.toISOString() ?? ''}), so verify again` : ''}`,
        command: repaired
          ? `cutover verify ${migration.name}`
          : `cutover repair ${migration.name} && cutover verify ${migration.name}`,
      },
    ]
  }
  const reasons: string[] = []
  if ((row.age_seconds ?? 0) > thresholds.evidenceMaxAgeSeconds)
    reasons.push(`it is ${Math.round(row.age_seconds ?? 0)} s old (limit ${thresholds.evidenceMaxAgeSeconds} s)`)
  if (row.changed_kind && row.changed_at)
    reasons.push(`a ${row.changed_kind} ran after it (${row.changed_at.toISOString()})`)
  if (row.divergences_after > 0) reasons.push(`${row.divergences_after} divergence(s) were seen after it`)
  if (reasons.length === 0) return []
  return [
    {
      migration: migration.name,
      severity: 'warning',
      code: 'evidence_stale',
      message: `${where}; its last clean verify (${row.verify_at.toISOString()}) is stale: ${reasons.join('; ')}`,
      command: `cutover verify ${migration.name}`,
    },
  ]
}
