/**
 * `cutover retire <group>` and `cutover unretire <group>`: every member in
 * one transaction under one lock timeout. The foreign keys between members'
 * legacy tables stay between the retired tables; those from outside the group
 * move to the shadows; each member gets its alias view when asked.
 */
import type { Target } from '../core/target.js'
import type { Pool } from './apply-state-change.js'
import { readMemberLegacyOids } from '../store/groups/group-members-sql.js'
import { DEFAULT_RETIRE_LOCK_TIMEOUT_MS } from '../core/lock-timeouts.js'
import {
  inLockedTransaction,
  retire,
  retireLocked,
  type RetireOptions,
  type RetireResult,
} from '../store/retire/retire.js'
import { unretire, unretireLocked, type UnretireOptions, type UnretireResult } from '../store/retire/unretire.js'
import { readTarget } from '../store/groups/group-target.js'

/** Retires a migration, or every member of the group `options.migration` names (`target`, when the caller read it already), in one transaction. */
export async function retireTarget(pool: Pool, options: RetireOptions, known?: Target): Promise<RetireResult[]> {
  const target = known ?? (await readTarget(pool, options.schema, options.migration))
  if (target.group === undefined) return [await retire(pool, options)]
  return inLockedTransaction(
    pool,
    options.migration,
    'retire',
    options.lockTimeoutMs ?? DEFAULT_RETIRE_LOCK_TIMEOUT_MS,
    async (client) => {
      const legacyOids = await readMemberLegacyOids(client, options.schema, target.members)
      const results: RetireResult[] = []
      for (const migration of target.members)
        results.push(await retireLocked(client, { ...options, migration }, legacyOids))
      return results
    },
  )
}

/** Unretires a migration, or every member of the group `options.migration` names (`target`, when the caller read it already), in one transaction. */
export async function unretireTarget(pool: Pool, options: UnretireOptions, known?: Target): Promise<UnretireResult[]> {
  const target = known ?? (await readTarget(pool, options.schema, options.migration))
  if (target.group === undefined) return [await unretire(pool, options)]
  return inLockedTransaction(
    pool,
    options.migration,
    'unretire',
    options.lockTimeoutMs ?? DEFAULT_RETIRE_LOCK_TIMEOUT_MS,
    async (client) => {
      const results: UnretireResult[] = []
      for (const migration of [...target.members].reverse())
        results.push(await unretireLocked(client, { ...options, migration }))
      return results.reverse()
    },
  )
}
