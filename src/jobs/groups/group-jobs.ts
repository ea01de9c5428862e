/**
 * The jobs of a migration, or of a group's members. The backfill copies the members one after another,
 * parents before children (the foreign keys between their shadows), so a
 * child row copied always finds its parent in the shadow: the parent was in
 * the parent's key range (copied before) or arrived later by the dual write.
 */
import { parentsFirst } from '../../core/parents-first.js'
import type { PoolLike } from '../../db/queryable.js'
import { withClient } from '../../db/with-client.js'
import { readTarget } from '../../store/groups/group-target.js'
import { readShadowReferences } from '../../store/groups/shadow-references-sql.js'
import { runPrecheck, type PrecheckOptions, type PrecheckResult } from '../entry/precheck.js'
import { runBackfill, type BackfillOptions, type BackfillResult } from '../entry/backfill.js'
import { runVerify, type VerifyOptions, type VerifyResult } from '../entry/verify.js'
import { runRepair, type RepairOptions, type RepairResult } from '../entry/repair.js'

/** The order a group's members are copied in; `[name]` for a migration. */
export async function backfillOrder(pool: PoolLike, schema: string, name: string): Promise<string[]> {
  return withClient(pool, async (client) => {
    const target = await readTarget(client, schema, name)
    return parentsFirst(name, await readShadowReferences(client, schema, target.members))
  })
}

/** Runs the backfill of `options.migration`, or of every member of the group it names, parents first. */
export async function runBackfills(pool: PoolLike, options: BackfillOptions): Promise<BackfillResult[]> {
  const results: BackfillResult[] = []
  for (const migration of await backfillOrder(pool, options.schema, options.migration)) {
    results.push(await runBackfill(pool, { ...options, migration }))
  }
  return results
}

/** Runs the verify of `options.migration`, or of every member of the group it names. */
export async function runVerifies(pool: PoolLike, options: VerifyOptions): Promise<VerifyResult[]> {
  const results: VerifyResult[] = []
  for (const migration of await backfillOrder(pool, options.schema, options.migration)) {
    results.push(await runVerify(pool, { ...options, migration }))
  }
  return results
}

/**
 * Runs the precheck of `options.migration`, or of every member of the group it names, parents first; each member
 * records its own `precheck` event, its rows judged against the rows of the members it references.
 */
export async function runPrechecks(pool: PoolLike, options: PrecheckOptions): Promise<PrecheckResult[]> {
  const results: PrecheckResult[] = []
  for (const migration of await backfillOrder(pool, options.schema, options.migration)) {
    results.push(await runPrecheck(pool, { ...options, migration }))
  }
  return results
}

/**
 * Repairs `options.migration`, or every member of the group it names. Members
 * are repaired parents first, so a child row copied finds its parent; a key
 * whose write a foreign key holds back (a parent's delete while its shadow
 * children are still there) is left open, and a second pass, children first,
 * repairs those, so a chain of deletes goes leaf to root. What still fails
 * then is a real fault (a row whose parent exists on neither side) and throws.
 */
export async function runRepairs(pool: PoolLike, options: RepairOptions): Promise<RepairResult[]> {
  const order = await backfillOrder(pool, options.schema, options.migration)
  // Only another member's rows can release a key held back: a migration alone defers nothing.
  const defers = order.length > 1 ? { deferForeignKeyViolations: true } : {}
  const first: RepairResult[] = []
  for (const migration of order) first.push(await runRepair(pool, { ...options, migration, ...defers }))
  const results = [...first]
  for (let i = order.length - 1; i >= 0; i--) {
    const earlier = first[i] as RepairResult
    if (earlier.deferred === 0) continue
    const again = await runRepair(pool, { ...options, migration: order[i] as string })
    results[i] = {
      ...again,
      rows: earlier.rows + again.rows,
      seconds: earlier.seconds + again.seconds,
      actions: [...earlier.actions, ...again.actions],
    }
  }
  return results
}
