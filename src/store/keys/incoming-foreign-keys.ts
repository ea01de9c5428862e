/**
 * Foreign keys of other tables that reference the legacy table, moved to the
 * shadow when it becomes authoritative (before the DAL stops writing legacy in
 * `complete`) and put back by a rollback from `shadow_primary`. Each move is
 * `ADD … NOT VALID`, `VALIDATE`, and the drop of the old key, in the caller's
 * transaction (which sets the lock timeout), under the key's own name.
 */
import { displayName, quoteIdent, quoteQualified, type QualifiedName } from '../../core/identifiers.js'
import { describeForeignKey, planForeignKeyMove, type ForeignKeyFacts } from '../../core/retire-plan.js'
import type { Queryable } from '../../db/queryable.js'
import { controlSchema } from '../../db/control-schema.js'
import type { CheckedMigration } from '../catalog/check-against-catalog.js'
import {
  addForeignKeySql,
  dropConstraintSql,
  orphansSql,
  readForeignKeysTo,
  relationName,
  type StoredForeignKey,
} from '../retire/foreign-keys-sql.js'
import { ForeignKeysCannotMove, type ForeignKeyProblem } from '../retire/retire-errors.js'

/** Adds `fk` from `child` to `target` NOT VALID, then validates it when the original was validated. */
async function addValidated(
  client: Queryable,
  fk: ForeignKeyFacts,
  child: QualifiedName,
  target: QualifiedName,
  columns: readonly string[],
): Promise<void> {
  await client.query(addForeignKeySql({ ...fk, validated: false }, child, target, columns))
  if (fk.validated)
    await client.query(`ALTER TABLE ${quoteQualified(child)} VALIDATE CONSTRAINT ${quoteIdent(fk.name)}`)
}

/**
 * Moves the foreign keys that reference legacy to the shadow; returns what it moved. With `strict` (entering
 * complete, after which legacy is no longer written) a key that cannot move refuses the whole change; without it
 * (entering shadow_primary, when the DAL still writes legacy) such a key stays on legacy for now, and the
 * complete gate (schema parity) names it.
 */
export async function moveForeignKeysToShadow(
  client: Queryable,
  checked: CheckedMigration,
  strict: boolean,
): Promise<StoredForeignKey[]> {
  const migration = checked.definition.name
  const shadow = checked.definition.shadow.table
  const incoming = (await readForeignKeysTo(client, checked.legacy.oid)).filter(
    (fk) => fk.tableOid !== checked.shadow.oid,
  )
  if (incoming.length === 0) return []
  const shadowForeignKeys = await readForeignKeysTo(client, checked.shadow.oid)
  const plans = incoming.map((fk) =>
    planForeignKeyMove(fk, {
      migration,
      shadow,
      backward: checked.mapping.backward,
      shadowColumns: new Set(checked.shadow.columns.keys()),
      shadowUniqueKeys: checked.shadow.uniqueKeys,
      shadowForeignKeys,
    }),
  )
  const problems: ForeignKeyProblem[] = plans.flatMap((m) =>
    m.kind === 'refuse' ? [{ foreignKey: describeForeignKey(m.fk), reason: m.reason }] : [],
  )
  const orphaned = new Set<string>()
  for (const move of plans) {
    if (move.kind !== 'move' || !move.fk.validated) continue
    const { rows } = await client.query<{ orphans: string }>(
      orphansSql(move.fk, move.fk.table, shadow, move.shadowColumns, 'count'),
    )
    const orphans = Number(rows[0]?.orphans ?? 0)
    if (orphans > 0) {
      orphaned.add(`${move.fk.tableOid}:${move.fk.name}`)
      problems.push({
        foreignKey: describeForeignKey(move.fk),
        reason: `${orphans} row(s) of ${displayName(move.fk.table)} reference keys that ${displayName(shadow)} lacks; run cutover verify ${migration} and cutover repair ${migration}`,
        listQuery: orphansSql(move.fk, move.fk.table, shadow, move.shadowColumns, 'list'),
      })
    }
  }
  if (strict && problems.length > 0)
    throw new ForeignKeysCannotMove(
      migration,
      'advance',
      displayName(shadow),
      problems,
      `cutover advance ${migration} --to complete --confirm`,
    )
  const planned = plans.filter((m) => !orphaned.has(`${m.fk.tableOid}:${m.fk.name}`))
  const stored: StoredForeignKey[] = []
  for (const move of planned) {
    if (move.kind === 'refuse') continue
    await client.query(dropConstraintSql(move.fk.table, move.fk.name))
    if (move.kind === 'move') await addValidated(client, move.fk, move.fk.table, shadow, move.shadowColumns)
    stored.push({
      ...move.fk,
      action: move.kind === 'move' ? 'moved' : 'dropped',
      shadowColumns: move.shadowColumns,
      ...(move.kind === 'drop' ? { equivalent: move.equivalent } : {}),
    })
  }
  return stored
}

/** The foreign keys the last move took from legacy and no rollback has put back yet. */
export async function readMovedForeignKeys(
  client: Queryable,
  schema: string,
  migration: string,
): Promise<StoredForeignKey[]> {
  const { rows } = await client.query<{ kind: string; moved: StoredForeignKey[] | null }>(
    `SELECT kind, details -> 'foreignKeysMoved' AS moved FROM ${controlSchema(schema).table('events')}
      WHERE migration = $1 AND (kind = 'foreign_keys_back' OR jsonb_typeof(details -> 'foreignKeysMoved') = 'array') ORDER BY id DESC LIMIT 1`,
    [migration],
  )
  const last = rows[0]
  return last && last.kind !== 'foreign_keys_back' ? (last.moved ?? []) : []
}

/** Puts the moved foreign keys back on legacy (each child's shadow key of the same name dropped), in the caller's transaction. */
export async function moveForeignKeysBack(
  client: Queryable,
  checked: CheckedMigration,
  moved: readonly StoredForeignKey[],
): Promise<string[]> {
  const legacy = checked.definition.legacy.table
  const restored: string[] = []
  for (const fk of moved) {
    const child = await relationName(client, fk.tableOid)
    if (!child) continue
    if (fk.action === 'moved') {
      const { rows } = await client.query<{ present: boolean }>(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $1 AND conname = $2 AND contype = 'f' AND confrelid = $3) AS present",
        [fk.tableOid, fk.name, checked.shadow.oid],
      )
      if (rows[0]?.present) await client.query(dropConstraintSql(child, fk.name))
    }
    await addValidated(client, fk, child, legacy, fk.referencedColumns)
    restored.push(describeForeignKey({ ...fk, table: child }))
  }
  return restored
}
