/**
 * Check: a logical key the shadow holds more than once. Only for a partitioned shadow whose unique keys include
 * partition columns beyond the logical key: no index refuses a second row there (a plain shadow's key is unique).
 */
import { CutoverError } from '../../core/errors.js'
import { displayName, quoteIdent, quoteQualified } from '../../core/identifiers.js'
import { isLockWait } from '../../db/pg-errors.js'
import { conflictKeyOf, isUniqueKey } from '../catalog/catalog.js'
import { loadMigration } from '../definitions/definitions.js'
import type { DoctorCheck } from './finding.js'
import { definitionInvalidFinding } from './definition-invalid.js'

const SHOWN = 5

export const shadowKeyDuplicatesCheck: DoctorCheck = async (db, { schema, migration }) => {
  let checked
  try {
    checked = await loadMigration(db, schema, migration.name, { allowRetired: true })
  } catch (error) {
    if (isLockWait(error)) return []
    if (!(error instanceof CutoverError)) throw error
    return [definitionInvalidFinding(migration, error.message)]
  }
  const key = checked.definition.shadow.key
  if (isUniqueKey(checked.shadow, key)) return []
  const keys = key.map(quoteIdent).join(', ')
  const query = `SELECT ${keys}, count(*) FROM ${quoteQualified(checked.definition.shadow.table)} GROUP BY ${keys} HAVING count(*) > 1`
  const { rows } = await db.query<{ n: number; shown: string[] | null }>(
    `SELECT count(*)::int AS n, (array_agg(k ORDER BY k))[1:${SHOWN}] AS shown FROM (SELECT ROW(${keys})::text AS k FROM (${query}) AS d) AS dk`,
  )
  const found = rows[0]
  if (!found || found.n === 0) return []
  // Before shadow_primary legacy's key still decides; from then on the shadow serves (and writes) alone.
  const severity = migration.phase === 'shadow_primary' || migration.phase === 'complete' ? 'error' : 'warning'
  return [
    {
      migration: migration.name,
      severity,
      code: 'shadow_key_duplicates',
      message:
        `${found.n} key(s) of ${displayName(checked.definition.shadow.table)} have more than one row (its unique key (${conflictKeyOf(checked.shadow, key)?.join(', ')}) includes partition columns, so no index refuses them), ` +
        `such as ${(found.shown ?? []).join(', ')}; list them with: ${query}`,
      command: `cutover verify ${migration.name} && cutover repair ${migration.name}`,
      query,
    },
  ]
}
