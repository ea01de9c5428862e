/** Finds a migration's schema-parity gaps in the live catalog, and applies the fixes cutover can write, in one transaction. */
import type pg from 'pg'
import { CheckFailed, ConfigInvalid } from '../../core/errors.js'
import { displayName } from '../../core/identifiers.js'
import { plainColumnMap, resolveMapping } from '../../core/mapping.js'
import { parityGaps, PARITY_ITEMS, type ParityGap } from '../../core/parity/index.js'
import { readTableInfo } from '../catalog/catalog.js'
import { loadDefinition } from '../definitions/definitions.js'
import { readTableFacts } from './parity-sql.js'
import { isLockWait, serverMessage } from '../../db/pg-errors.js'
import type { PoolLike } from '../../db/queryable.js'
import { withTransaction } from '../../db/with-transaction.js'
import { controlSchema } from '../../db/control-schema.js'
import { setLockTimeout } from '../../db/set-lock-timeout.js'

export interface ParityOptions {
  /** The control schema (default `cutover`). */
  readonly schema: string
  readonly migration: string
}

/** The gaps of `migration`, read on `db` (a client, possibly inside the caller's transaction). */
export async function readParityGaps(db: pg.ClientBase, schema: string, migration: string): Promise<ParityGap[]> {
  const def = await loadDefinition(db, schema, migration)
  const info = async (side: 'legacy' | 'shadow') => {
    const found = await readTableInfo(db, def[side].table)
    if (!found)
      throw new ConfigInvalid(
        def.name,
        `${side} table ${displayName(def[side].table)} does not exist; create it or fix "${side}.table"`,
      )
    return found
  }
  const legacyInfo = await info('legacy')
  const shadowInfo = await info('shadow')
  const mapping = resolveMapping(def, [...legacyInfo.columns.values()], [...shadowInfo.columns.values()])
  const legacy = await readTableFacts(db, def.legacy.table, shadowInfo.oid, schema)
  const shadow = await readTableFacts(db, def.shadow.table, legacyInfo.oid, schema)
  if (!legacy || !shadow)
    throw new ConfigInvalid(
      def.name,
      `${displayName(def[legacy ? 'shadow' : 'legacy'].table)} disappeared while it was being read; run the command again`,
    )
  return parityGaps({
    legacy,
    shadow,
    columns: plainColumnMap(mapping.forward, mapping.legacyColumns),
    keys: { legacy: def.legacy.key, shadow: def.shadow.key },
  })
}

/**
 * What the shadow table lacks that the legacy table has (grants, RLS and
 * policies, triggers, foreign keys both ways, checks, owned sequences,
 * unique keys), each with the SQL that adds it or null when a person must
 * write it. Reads one consistent snapshot; writes nothing.
 */
export async function findParityGaps(pool: PoolLike, options: ParityOptions): Promise<ParityGap[]> {
  return withTransaction(pool, async (client) => {
    await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    return readParityGaps(client, options.schema, options.migration)
  })
}

export interface ApplyParityOptions extends ParityOptions {
  /** The gaps to close, as findParityGaps returned them. */
  readonly gaps: readonly ParityGap[]
  /** Who applies them (recorded in the event). */
  readonly actor?: string
  readonly reason?: string
  /** Longest wait for each lock the statements take (default 5000 ms); then nothing is applied. */
  readonly lockTimeoutMs?: number
}

export interface ParityApplyResult {
  /** The gaps whose SQL ran (and committed). */
  readonly applied: readonly ParityGap[]
  /** The gaps with no SQL: a person must write it. */
  readonly needsPerson: readonly ParityGap[]
}

/**
 * Runs every non-null `fixSql` of `gaps` in one transaction with a
 * lock_timeout, unique keys before the foreign keys that need them and
 * policies before RLS, and records a `parity_apply` event with the
 * statements. All or nothing: a failing statement applies none of them.
 */
export async function applyParityFixes(pool: PoolLike, options: ApplyParityOptions): Promise<ParityApplyResult> {
  const ordered = [...options.gaps].sort((a, b) => PARITY_ITEMS.indexOf(a.item) - PARITY_ITEMS.indexOf(b.item))
  const applied = ordered.filter((g) => g.fixSql !== null)
  const needsPerson = ordered.filter((g) => g.fixSql === null)
  if (applied.length === 0) return { applied, needsPerson }
  const lockTimeoutMs = Math.max(1, Math.round(options.lockTimeoutMs ?? 5000))
  await withTransaction(pool, async (client) => {
    await loadDefinition(client, options.schema, options.migration)
    await setLockTimeout(client, lockTimeoutMs)
    for (const gap of applied) {
      try {
        await client.query(gap.fixSql as string)
      } catch (error) {
        const what = `${gap.item} ${gap.object}`
        if (isLockWait(error)) {
          throw new CheckFailed(
            `${options.migration}: the fix for ${what} waited more than ${lockTimeoutMs} ms for a lock; nothing was applied. ` +
              `Find the blocking transaction (pg_stat_activity, pg_locks), end it or wait, then run: cutover doctor ${options.migration} --apply`,
            { cause: error },
          )
        }
        throw new CheckFailed(
          `${options.migration}: the fix for ${what} failed: ${serverMessage(error)}; nothing was applied. ` +
            `Fix the cause (or apply that gap by hand), then run: cutover doctor ${options.migration} --apply`,
          { cause: error },
        )
      }
    }
    await controlSchema(options.schema).insertEvent(client, {
      migration: options.migration,
      actor: options.actor ?? 'library',
      kind: 'parity_apply',
      reason: options.reason,
      details: {
        statements: applied.map((g) => g.fixSql),
        applied: applied.map((g) => ({ item: g.item, object: g.object })),
        needsPerson: needsPerson.map((g) => ({ item: g.item, object: g.object, description: g.description })),
      },
    })
  })
  return { applied, needsPerson }
}
