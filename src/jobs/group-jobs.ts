/**
 * The jobs of a migration, or of a group's members. The backfill copies the members one after another,
 * parents before children (the foreign keys between their shadows), so a
 * child row copied always finds its parent in the shadow: the parent was in
 * the parent's key range (copied before) or arrived later by the dual write.
 */
import { parentsFirst } from '../core/parents-first.js'
import type { PoolLike } from '../db/queryable.js'
import { withClient } from '../db/with-client.js'
import { readGroupMembers } from '../store/groups/group-members-sql.js'
import { readShadowReferences } from '../store/groups/shadow-references-sql.js'
import { runPrecheck, type PrecheckOptions, type PrecheckResult } from './precheck.js'
import { runBackfill, type BackfillOptions, type BackfillResult } from './backfill.js'
import { runVerify, type VerifyOptions, type VerifyResult } from './verify.js'

/** The order a group's members are copied in; `[name]` for a migration. */
export async function backfillOrder(pool: PoolLike, schema: string, name: string): Promise<string[]> {
  return withClient(pool, async (client) => {
    const members = await readGroupMembers(client, schema, name)
    if (members.length === 0) return [name]
    return parentsFirst(name, await readShadowReferences(client, schema, members))
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
