/**
 * `cutover retire`: in one transaction under a lock timeout, renames the
 * legacy table (never drops it), moves the foreign keys of other tables from
 * it to the shadow, optionally creates the alias view under the legacy name,
 * and records a `retire` event that unretire reads to undo exactly that.
 */
import type pg from 'pg'
import { ConfigInvalid, GateRefused, UnknownMigration } from '../../core/errors.js'
import { displayName, quoteIdent, quoteQualified, type QualifiedName } from '../../core/identifiers.js'
import { parseMigration } from '../../core/parse-config.js'
import { isPhase } from '../../core/phases.js'
import { DEFAULT_RETIRE_LOCK_TIMEOUT_MS } from '../../core/lock-timeouts.js'
import {
  checkRetireGate,
  describeForeignKey,
  planForeignKeyMove,
  retiredTableName,
  type ForeignKeyMove,
} from '../../core/retire-plan.js'
import { aliasWrites, createAliasViewSql, copyGrants, type AliasWrites } from './alias-view-sql.js'
import {
  addForeignKeySql,
  dropConstraintSql,
  orphansSql,
  readForeignKeysTo,
  relationKind,
  type StoredForeignKey,
} from './foreign-keys-sql.js'
import { isLockWait, serverMessage } from '../../db/pg-errors.js'
import { checkAgainstCatalog } from '../catalog/check-against-catalog.js'
import { ForeignKeysCannotMove, RetireLocked, type ForeignKeyProblem } from './retire-errors.js'
import { readRetirement, type RetireDetails } from './retirement.js'
import type { PoolLike, Queryable } from '../../db/queryable.js'
import { withTransaction } from '../../db/with-transaction.js'
import { controlSchema } from '../../db/control-schema.js'
import { withSavepoint } from '../../db/with-savepoint.js'
import { removeNet } from '../bypass/bypass-net.js'
import { refuseMemberAlone } from '../groups/group-target.js'
import { setLockTimeout } from '../../db/set-lock-timeout.js'

export interface RetireOptions {
  readonly schema: string
  readonly migration: string
  readonly actor: string
  readonly reason?: string | undefined
  /** Create a view under the legacy name, through `backward`. */
  readonly alias?: boolean
  /** Override the retire soak; recorded in the event. */
  readonly force?: boolean
  /** lock_timeout of the transaction (default 5 s); a lock not granted in time fails the whole retire, changing nothing. */
  readonly lockTimeoutMs?: number
}

export interface RetireResult {
  readonly migration: string
  /** False when it was already retired (nothing changed). */
  readonly changed: boolean
  readonly legacyTable: string
  readonly retiredTable: string
  readonly alias: (AliasWrites & { readonly view: string; readonly grants: readonly string[] }) | null
  readonly foreignKeys: readonly {
    readonly foreignKey: string
    readonly action: 'moved' | 'dropped'
    readonly references: string
  }[]
  /** What a person runs to drop the old table for good (after which unretire is impossible). */
  readonly dropSql: string
  readonly forced: boolean
  readonly overriddenBecause?: string
}

interface StateRow {
  phase: string
  definition: unknown
  legacy_oid: number
  complete_since: Date | null
  now: Date
}

/** Runs `work` in one transaction under a lock timeout; a lock not granted in time becomes RetireLocked. */
export async function inLockedTransaction<T>(
  pool: PoolLike,
  migration: string,
  action: 'retire' | 'unretire',
  lockTimeoutMs: number,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  try {
    return await withTransaction(pool, async (client) => {
      await setLockTimeout(client, lockTimeoutMs)
      return work(client)
    })
  } catch (error) {
    if (isLockWait(error))
      throw new RetireLocked(migration, action, lockTimeoutMs, serverMessage(error), { cause: error })
    throw error
  }
}

/** Locks the migration's state row (serialising with advance, rollback and unretire) and reads what retire judges. */
async function lockState(client: Queryable, schema: string, migration: string): Promise<StateRow> {
  const s = controlSchema(schema).quoted
  const { rows } = await client.query<StateRow>(
    `SELECT st.phase, m.definition, m.legacy_table::oid::int AS legacy_oid, clock_timestamp() AS now,
            (SELECT max(at) FROM ${s}.events e WHERE (e.migration = $1 OR e.group_name = m.definition ->> 'group') AND e.to_phase = 'complete' AND e.from_phase IS DISTINCT FROM 'complete') AS complete_since
       FROM ${s}.state st JOIN ${s}.migrations m ON m.name = st.migration WHERE st.migration = $1 FOR UPDATE OF st`,
    [migration],
  )
  if (!rows[0]) throw new UnknownMigration(migration)
  return rows[0]
}

function alreadyRetired(migration: string, details: RetireDetails, shadow: QualifiedName): RetireResult {
  return {
    migration,
    changed: false,
    legacyTable: displayName(details.legacyTable),
    retiredTable: displayName(details.retiredTable),
    alias: details.alias
      ? { view: displayName(details.alias), grants: [], isUpdatable: false, updatableColumns: [], readOnlyColumns: [] }
      : null,
    foreignKeys: details.foreignKeys.map((fk) => ({
      foreignKey: describeForeignKey(fk),
      action: fk.action,
      references: `${displayName(shadow)} (${fk.shadowColumns.join(', ')})`,
    })),
    dropSql: details.dropSql,
    forced: false,
  }
}

/** Counts, for each foreign key about to move, the child rows the shadow lacks a parent for. */
async function orphanProblems(
  client: Queryable,
  moves: readonly ForeignKeyMove[],
  shadow: QualifiedName,
): Promise<ForeignKeyProblem[]> {
  const problems: ForeignKeyProblem[] = []
  for (const move of moves) {
    if (move.kind === 'refuse' || !move.fk.validated) continue
    const { rows } = await client.query<{ orphans: string }>(
      orphansSql(move.fk, move.fk.table, shadow, move.shadowColumns, 'count'),
    )
    const orphans = Number(rows[0]?.orphans ?? 0)
    if (orphans > 0) {
      problems.push({
        foreignKey: describeForeignKey(move.fk),
        reason: `${orphans} row(s) of ${displayName(move.fk.table)} reference keys that ${displayName(shadow)} lacks (they would be orphans)`,
        listQuery: orphansSql(move.fk, move.fk.table, shadow, move.shadowColumns, 'list'),
      })
    }
  }
  return problems
}

export async function retire(pool: PoolLike, options: RetireOptions): Promise<RetireResult> {
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_RETIRE_LOCK_TIMEOUT_MS
  return inLockedTransaction(pool, options.migration, 'retire', lockTimeoutMs, async (client) => {
    // A group's member is retired with its group, in the group's one transaction.
    await refuseMemberAlone(client, options.schema, options.migration, 'retire', '')
    return retireLocked(client, options, new Set())
  })
}

/**
 * Retires one migration in the caller's transaction (lock timeout set). The
 * foreign keys of tables in `keepFrom` (oids: the legacy tables of the other
 * members of its group, retired with it) stay where they are, between retired tables.
 */
export async function retireLocked(
  client: pg.PoolClient,
  options: RetireOptions,
  keepFrom: ReadonlySet<number>,
): Promise<RetireResult> {
  const { schema, migration } = options
  {
    const state = await lockState(client, schema, migration)
    const current = await readRetirement(client, schema, migration)
    const def = parseMigration(state.definition)
    if (current) return alreadyRetired(migration, current.details, def.shadow.table)
    const gateDetails: { overriddenGate?: string; overriddenBecause?: string } = {}
    try {
      checkRetireGate(migration, {
        phase: isPhase(state.phase) ? state.phase : 'off',
        completeSince: state.complete_since ?? undefined,
        soakSeconds: def.retireSoakSeconds,
        now: state.now,
      })
    } catch (error) {
      if (!(error instanceof GateRefused) || !options.force) throw error
      gateDetails.overriddenGate = error.gate
      gateDetails.overriddenBecause = error.missing
    }
    const checked = await checkAgainstCatalog(client, def)
    if (checked.legacy.oid !== state.legacy_oid) {
      throw new ConfigInvalid(
        migration,
        `the registered legacy table is no longer the table named ${displayName(def.legacy.table)}; check the catalog and re-register before retiring`,
      )
    }
    const legacy = def.legacy.table
    const retired: QualifiedName = { schema: legacy.schema, name: retiredTableName(legacy.name) }
    if (await relationKind(client, retired)) {
      throw new ConfigInvalid(
        migration,
        `a relation named ${displayName(retired)} already exists, so the legacy table cannot be renamed to it; rename or drop it, then run cutover retire ${migration} again`,
      )
    }
    await client.query(`LOCK TABLE ${quoteQualified(legacy)} IN ACCESS EXCLUSIVE MODE`)
    const shadow = def.shadow.table
    const shadowForeignKeys = await readForeignKeysTo(client, checked.shadow.oid)
    const planned = (await readForeignKeysTo(client, checked.legacy.oid))
      .filter((fk) => !keepFrom.has(fk.tableOid))
      .map((fk) =>
        planForeignKeyMove(fk, {
          migration,
          shadow,
          backward: checked.mapping.backward,
          shadowColumns: new Set(checked.shadow.columns.keys()),
          shadowUniqueKeys: checked.shadow.uniqueKeys,
          shadowForeignKeys,
        }),
      )
    const problems: ForeignKeyProblem[] = planned.flatMap((m) =>
      m.kind === 'refuse' ? [{ foreignKey: describeForeignKey(m.fk), reason: m.reason }] : [],
    )
    problems.push(...(await orphanProblems(client, planned, shadow)))
    if (problems.length > 0) throw new ForeignKeysCannotMove(migration, 'retire', displayName(shadow), problems)

    // The bypass net comes off before the rename: a retired legacy table carries no trigger of the tool's.
    const net = await removeNet(client, {
      schema,
      migration,
      actor: options.actor,
      reason: options.reason,
      why: 'retire',
    })
    await client.query(`ALTER TABLE ${quoteQualified(legacy)} RENAME TO ${quoteIdent(retired.name)}`)
    const stored: StoredForeignKey[] = []
    for (const move of planned) {
      if (move.kind === 'refuse') continue
      await client.query(dropConstraintSql(move.fk.table, move.fk.name))
      if (move.kind === 'move') {
        try {
          await withSavepoint(client, 'cutover_fk', () =>
            client.query(addForeignKeySql(move.fk, move.fk.table, shadow, move.shadowColumns)),
          )
        } catch (error) {
          if (isLockWait(error)) throw error
          problems.push({
            foreignKey: describeForeignKey(move.fk),
            reason: `PostgreSQL refused it on the shadow: ${serverMessage(error)}`,
          })
        }
      }
      stored.push({
        ...move.fk,
        action: move.kind === 'move' ? 'moved' : 'dropped',
        shadowColumns: move.shadowColumns,
        ...(move.kind === 'drop' ? { equivalent: move.equivalent } : {}),
      })
    }
    if (problems.length > 0) throw new ForeignKeysCannotMove(migration, 'retire', displayName(shadow), problems)

    let alias: RetireResult['alias'] = null
    if (options.alias) {
      await client.query(createAliasViewSql(legacy, shadow, checked.mapping.backward, checked.legacy, checked.shadow))
      const grants = await copyGrants(client, checked.legacy.oid, legacy)
      alias = { view: displayName(legacy), grants, ...(await aliasWrites(client, legacy)) }
    }
    const dropSql = `DROP TABLE ${quoteQualified(retired)};`
    const details: RetireDetails = {
      legacyTable: legacy,
      retiredTable: retired,
      alias: options.alias ? legacy : null,
      foreignKeys: stored,
      legacyColumns: [...checked.legacy.columns.values()],
      dropSql,
      ...gateDetails,
      ...(net ? { bypassNetRemoved: net.mode } : {}),
    }
    await controlSchema(schema).insertEvent(client, {
      migration,
      actor: options.actor,
      kind: 'retire',
      reason: options.reason,
      forced: gateDetails.overriddenGate !== undefined,
      details,
    })
    return {
      migration,
      changed: true,
      legacyTable: displayName(legacy),
      retiredTable: displayName(retired),
      alias,
      foreignKeys: stored.map((fk) => ({
        foreignKey: describeForeignKey(fk),
        action: fk.action,
        references: `${displayName(shadow)} (${fk.shadowColumns.join(', ')})`,
      })),
      dropSql,
      forced: gateDetails.overriddenGate !== undefined,
      ...(gateDetails.overriddenBecause ? { overriddenBecause: gateDetails.overriddenBecause } : {}),
    }
  }
}
