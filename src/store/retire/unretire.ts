/**
 * `cutover unretire`: undoes exactly what the last retire recorded, in one
 * transaction under a lock timeout: drops the alias view, renames the retired
 * table back, and moves each foreign key back to the legacy table.
 */
import { TransitionInvalid, UnknownMigration } from '../../core/errors.js'
import { displayName, quoteIdent, quoteQualified, type QualifiedName } from '../../core/identifiers.js'
import { describeForeignKey } from '../../core/retire-plan.js'
import {
  addForeignKeySql,
  dropConstraintSql,
  orphansSql,
  relationKind,
  relationName,
  type StoredForeignKey,
} from './foreign-keys-sql.js'
import { isLockWait, serverMessage } from '../../db/pg-errors.js'
import { DEFAULT_RETIRE_LOCK_TIMEOUT_MS } from '../../core/lock-timeouts.js'
import { inLockedTransaction } from './retire.js'
import { ForeignKeysCannotMove, type ForeignKeyProblem } from './retire-errors.js'
import { readRetirement } from './retirement.js'
import type { Queryable } from '../../db/queryable.js'
import { controlSchema } from '../../db/control-schema.js'
import { withSavepoint } from '../../db/with-savepoint.js'
import { refuseMemberAlone } from '../groups/group-target.js'

export interface UnretireOptions {
  readonly schema: string
  readonly migration: string
  readonly actor: string
  readonly reason?: string | undefined
  /** lock_timeout of the transaction (default 5 s). */
  readonly lockTimeoutMs?: number
}

export interface UnretireResult {
  readonly migration: string
  /** False when it was not retired (nothing changed). */
  readonly changed: boolean
  readonly legacyTable: string | null
  readonly aliasDropped: boolean
  readonly foreignKeys: readonly { readonly foreignKey: string; readonly references: string }[]
}

interface Located {
  readonly fk: StoredForeignKey
  readonly child: QualifiedName
}

/** Finds each recorded child table by oid (it may have been renamed since) and checks its rows against the legacy table. */
async function locate(
  client: Queryable,
  fks: readonly StoredForeignKey[],
  legacyNow: QualifiedName,
  problems: ForeignKeyProblem[],
): Promise<Located[]> {
  const located: Located[] = []
  for (const fk of fks) {
    const child = await relationName(client, fk.tableOid)
    if (!child) {
      problems.push({ foreignKey: describeForeignKey(fk), reason: 'its table no longer exists' })
      continue
    }
    if (fk.validated) {
      const { rows } = await client.query<{ orphans: string }>(
        orphansSql(fk, child, legacyNow, fk.referencedColumns, 'count'),
      )
      const orphans = Number(rows[0]?.orphans ?? 0)
      if (orphans > 0) {
        problems.push({
          foreignKey: describeForeignKey(fk),
          reason: `${orphans} row(s) of ${displayName(child)} reference keys the legacy table lacks (written while retired; the legacy table is not written in complete)`,
          listQuery: orphansSql(fk, child, legacyNow, fk.referencedColumns, 'list'),
        })
      }
    }
    located.push({ fk, child })
  }
  return located
}

export async function unretire(
  pool: Parameters<typeof inLockedTransaction>[0],
  options: UnretireOptions,
): Promise<UnretireResult> {
  return inLockedTransaction(
    pool,
    options.migration,
    'unretire',
    options.lockTimeoutMs ?? DEFAULT_RETIRE_LOCK_TIMEOUT_MS,
    async (client) => {
      await refuseMemberAlone(client, options.schema, options.migration, 'unretire', '')
      return unretireLocked(client, options)
    },
  )
}

/** Unretires one migration in the caller's transaction (lock timeout set). */
export async function unretireLocked(client: Queryable, options: UnretireOptions): Promise<UnretireResult> {
  const { schema, migration } = options
  const s = controlSchema(schema).quoted
  {
    const { rows } = await client.query<{ legacy_oid: number; shadow_oid: number }>(
      `SELECT m.legacy_table::oid::int AS legacy_oid, m.shadow_table::oid::int AS shadow_oid
         FROM ${s}.state st JOIN ${s}.migrations m ON m.name = st.migration WHERE st.migration = $1 FOR UPDATE OF st`,
      [migration],
    )
    const registered = rows[0]
    if (!registered) throw new UnknownMigration(migration)
    const retirement = await readRetirement(client, schema, migration)
    if (!retirement) return { migration, changed: false, legacyTable: null, aliasDropped: false, foreignKeys: [] }
    const d = retirement.details
    const retiredNow = await relationName(client, registered.legacy_oid)
    if (!retiredNow) {
      throw new TransitionInvalid(
        migration,
        `the retired table ${displayName(d.retiredTable)} no longer exists (dropped?), so unretire cannot bring it back; restore it from a backup`,
      )
    }
    await client.query(`LOCK TABLE ${quoteQualified(retiredNow)} IN ACCESS EXCLUSIVE MODE`)
    const problems: ForeignKeyProblem[] = []
    const located = await locate(client, [...d.foreignKeys].reverse(), retiredNow, problems)
    if (problems.length > 0)
      throw new ForeignKeysCannotMove(migration, 'unretire', displayName(d.legacyTable), problems)

    const occupant = await relationKind(client, d.legacyTable)
    let aliasDropped = false
    if (occupant && d.alias && occupant.kind === 'v') {
      try {
        await client.query(`DROP VIEW ${quoteQualified(d.alias)}`)
      } catch (error) {
        if (isLockWait(error)) throw error
        throw new TransitionInvalid(
          migration,
          `the alias view ${displayName(d.alias)} cannot be dropped: ${serverMessage(error)}; drop what depends on it first, then run cutover unretire ${migration} again`,
        )
      }
      aliasDropped = true
    } else if (occupant) {
      throw new TransitionInvalid(
        migration,
        `a relation named ${displayName(d.legacyTable)} exists that retire did not create, so the retired table cannot take its name back; rename or drop it, then run cutover unretire ${migration} again`,
      )
    }
    if (retiredNow.schema !== d.legacyTable.schema) {
      throw new TransitionInvalid(
        migration,
        `the retired table moved to schema ${retiredNow.schema}; move it back to ${d.legacyTable.schema}, then run cutover unretire ${migration} again`,
      )
    }
    await client.query(`ALTER TABLE ${quoteQualified(retiredNow)} RENAME TO ${quoteIdent(d.legacyTable.name)}`)

    const restored: UnretireResult['foreignKeys'][number][] = []
    for (const { fk, child } of located) {
      if (fk.action === 'moved') {
        const { rows: present } = await client.query<{ name: string }>(
          "SELECT conname AS name FROM pg_constraint WHERE conrelid = $1 AND conname = $2 AND contype = 'f' AND confrelid = $3",
          [fk.tableOid, fk.name, registered.shadow_oid],
        )
        if (present[0]) await client.query(dropConstraintSql(child, fk.name))
      }
      try {
        await withSavepoint(client, 'cutover_fk', () =>
          client.query(addForeignKeySql(fk, child, d.legacyTable, fk.referencedColumns)),
        )
      } catch (error) {
        if (isLockWait(error)) throw error
        problems.push({
          foreignKey: describeForeignKey(fk),
          reason: `PostgreSQL refused it on the legacy table: ${serverMessage(error)}`,
        })
      }
      restored.push({
        foreignKey: describeForeignKey({ ...fk, table: child }),
        references: `${displayName(d.legacyTable)} (${fk.referencedColumns.join(', ')})`,
      })
    }
    if (problems.length > 0)
      throw new ForeignKeysCannotMove(migration, 'unretire', displayName(d.legacyTable), problems)
    await controlSchema(schema).insertEvent(client, {
      migration,
      actor: options.actor,
      kind: 'unretire',
      reason: options.reason,
      details: {
        retireEvent: retirement.eventId,
        renamedBack: { from: retiredNow, to: d.legacyTable },
        aliasDropped,
        foreignKeys: restored,
      },
    })
    return { migration, changed: true, legacyTable: displayName(d.legacyTable), aliasDropped, foreignKeys: restored }
  }
}
