/**
 * The key source of a migration: the sequence (serial default or identity) new
 * keys come from. While legacy is authoritative it is legacy's; when the shadow
 * becomes authoritative it moves to the shadow's, for good: legacy's default is
 * pointed at the shadow's sequence (legacy and shadow then draw from one
 * sequence, whoever inserts, the DAL or plain SQL, in any later phase, after a
 * rollback or an unretire too) and the shadow's sequence is set past every key
 * either table holds. Nothing the tool or the shadow uses then needs legacy's
 * own sequence, so dropping the retired table breaks no insert.
 */
import { PermissionDenied } from '../../core/errors.js'
import { quoteIdent, quoteLiteral, quoteQualified } from '../../core/identifiers.js'
import { plainColumnMap } from '../../core/mapping.js'
import type { Queryable } from '../../db/queryable.js'
import type { CheckedMigration } from '../catalog/check-against-catalog.js'

/** A legacy column copied as a plain column to a shadow column that has a sequence of its own. */
export interface KeySource {
  readonly legacyColumn: string
  readonly shadowColumn: string
  /** The shadow column's sequence, quoted and qualified. */
  readonly shadowSequence: string
  /** Legacy's sequence, quoted and qualified (null when legacy's column has none). */
  readonly legacySequence: string | null
  /** Legacy's column is an identity column: its default cannot be pointed elsewhere. */
  readonly isLegacyIdentity: boolean
}

export function keySources(checked: CheckedMigration): KeySource[] {
  const sources: KeySource[] = []
  for (const [legacyColumn, shadowColumn] of plainColumnMap(checked.mapping.forward, [
    ...checked.legacy.columns.keys(),
  ])) {
    const shadowSequence = checked.shadow.columns.get(shadowColumn)?.sequence
    if (!shadowSequence) continue
    const legacy = checked.legacy.columns.get(legacyColumn)
    sources.push({
      legacyColumn,
      shadowColumn,
      shadowSequence,
      legacySequence: legacy?.sequence ?? null,
      isLegacyIdentity: (legacy?.identity ?? '') !== '',
    })
  }
  return sources
}

/** The highest key either table holds or legacy's sequence handed out: where the shadow's sequence must be at least. */
function highestKeySql(checked: CheckedMigration, source: KeySource): string {
  const legacy = quoteQualified(checked.definition.legacy.table)
  const shadow = quoteQualified(checked.definition.shadow.table)
  const parts = [
    `(SELECT max(${quoteIdent(source.legacyColumn)})::bigint FROM ${legacy})`,
    `(SELECT max(${quoteIdent(source.shadowColumn)})::bigint FROM ${shadow})`,
  ]
  if (source.legacySequence && source.legacySequence !== source.shadowSequence) {
    parts.push(`(SELECT CASE WHEN is_called THEN last_value END FROM ${source.legacySequence})`)
  }
  return `greatest(${parts.join(', ')})`
}

/** `setval` of the shadow's sequence to `highest` when it is behind (never backwards). */
export function catchUpSql(source: KeySource, highest: string): string {
  const seq = quoteLiteral(source.shadowSequence)
  return `SELECT setval(${seq}::regclass, h.v) FROM (SELECT ${highest} AS v) AS h
     WHERE h.v IS NOT NULL AND h.v > (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM ${source.shadowSequence})`
}

/**
 * Moves the key source to the shadow, in the caller's transaction (which sets the lock timeout): legacy is locked
 * against writes first (legacy before shadow), so no insert that drew from legacy's sequence is still in flight
 * when the shadow's is set past it.
 */
export async function moveKeySourceToShadow(client: Queryable, checked: CheckedMigration): Promise<KeySource[]> {
  const sources = keySources(checked)
  if (sources.length === 0) return sources
  const legacy = quoteQualified(checked.definition.legacy.table)
  await client.query(`LOCK TABLE ${legacy} IN EXCLUSIVE MODE`)
  for (const source of sources) {
    await client.query(catchUpSql(source, highestKeySql(checked, source)))
    if (!source.isLegacyIdentity && source.legacySequence !== source.shadowSequence) {
      await client.query(
        `ALTER TABLE ${legacy} ALTER COLUMN ${quoteIdent(source.legacyColumn)} SET DEFAULT nextval(${quoteLiteral(source.shadowSequence)}::regclass)`,
      )
    }
  }
  return sources
}

/** What doctor reports of one key source: the shadow column has no sequence while legacy's has one, or its sequence is behind. */
export type KeySourceProblem =
  | {
      readonly kind: 'missing'
      readonly legacyColumn: string
      readonly shadowColumn: string
      readonly legacySequence: string
    }
  | { readonly kind: 'behind'; readonly source: KeySource; readonly highest: string; readonly position: string }

/**
 * Reads whether each key source is in place: a legacy column that takes keys from a sequence is copied to a shadow
 * column with a sequence of its own, at or past the highest key of the shadow (and of legacy, while legacy exists).
 */
export async function readKeySourceProblems(client: Queryable, checked: CheckedMigration): Promise<KeySourceProblem[]> {
  const problems: KeySourceProblem[] = []
  for (const [legacyColumn, shadowColumn] of plainColumnMap(checked.mapping.forward, [
    ...checked.legacy.columns.keys(),
  ])) {
    const legacySequence = checked.legacy.columns.get(legacyColumn)?.sequence
    const shadow = checked.shadow.columns.get(shadowColumn)
    if (legacySequence && shadow && !shadow.sequence && !shadow.hasDefault)
      problems.push({ kind: 'missing', legacyColumn, shadowColumn, legacySequence })
  }
  const legacyExists = checked.retiredLegacyTable === undefined
  for (const source of keySources(checked)) {
    const highest = legacyExists
      ? highestKeySql(checked, source)
      : `(SELECT max(${quoteIdent(source.shadowColumn)})::bigint FROM ${quoteQualified(checked.definition.shadow.table)})`
    const { rows } = await client.query<{ highest: string | null; position: string }>(
      `SELECT (${highest})::text AS highest, (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM ${source.shadowSequence})::text AS position`,
    )
    const row = rows[0]
    if (row?.highest != null && BigInt(row.highest) > BigInt(row.position))
      problems.push({ kind: 'behind', source, highest: row.highest, position: row.position })
  }
  return problems
}

/** The SQL that fixes a problem: an identity for a missing key source (then doctor reports it behind), a setval for one behind. */
export function keySourceFixSql(checked: CheckedMigration, problem: KeySourceProblem): string {
  const shadow = quoteQualified(checked.definition.shadow.table)
  if (problem.kind === 'missing')
    return `ALTER TABLE ${shadow} ALTER COLUMN ${quoteIdent(problem.shadowColumn)} ADD GENERATED BY DEFAULT AS IDENTITY`
  return `SELECT setval(${quoteLiteral(problem.source.shadowSequence)}::regclass, ${problem.highest})`
}

/**
 * Refuses a key source the registering role may not use: moving it takes the sequence's position (SELECT), sets it
 * (UPDATE), and the tool's inserts draw from it (USAGE). Names the grant; run at registration, before anything is written.
 */
export async function checkKeySourcePrivileges(client: Queryable, checked: CheckedMigration): Promise<void> {
  for (const source of keySources(checked)) {
    const { rows } = await client.query<{ role: string; missing: string[] }>(
      `SELECT current_user::text AS role, array_remove(ARRAY[
         CASE WHEN NOT has_sequence_privilege($1, 'USAGE') THEN 'USAGE' END,
         CASE WHEN NOT has_sequence_privilege($1, 'SELECT') THEN 'SELECT' END,
         CASE WHEN NOT has_sequence_privilege($1, 'UPDATE') THEN 'UPDATE' END], NULL)::text[] AS missing`,
      [source.shadowSequence],
    )
    const row = rows[0]
    if (!row || row.missing.length === 0) continue
    const grant = `GRANT ${row.missing.join(', ')} ON SEQUENCE ${source.shadowSequence} TO ${quoteIdent(row.role)}`
    throw new PermissionDenied(
      `sequence ${source.shadowSequence}`,
      grant,
      `shadow column "${source.shadowColumn}" takes its keys from it, and role ${row.role} lacks ${row.missing.join(', ')} on it`,
    )
  }
}
