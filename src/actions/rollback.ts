/** `cutover rollback`: every read back on legacy at once; the Unleash toggle of an Unleash-routed migration disabled too. */
import { planRollback } from '../core/phases.js'
import { mirrorRollback } from '../flags/unleash-mirror.js'
import { readGroupOf } from '../store/groups/group-members-sql.js'
import type { ActionOptions, ActionResult, UnleashMirrorOptions } from './action-options.js'
import { applyStateChange, type Pool } from './apply-state-change.js'
import { removeNetAfterRollback } from './bypass-net.js'
import { moveForeignKeysBackAfterRollback } from './authority-move.js'

export interface RollbackOptions extends ActionOptions {
  readonly trigger?: 'manual' | 'guardrail'
  /** Where an Unleash-routed migration's toggle is disabled; `false` leaves Unleash alone (a guardrail in an application process). */
  readonly unleash?: UnleashMirrorOptions | false
}

export interface RollbackResult extends ActionResult {
  /** What was done in Unleash, when something was. */
  readonly unleash?: string
  /** Why Unleash does not agree yet; the rollback itself is in force regardless (routing obeys the control schema). */
  readonly unleashWarning?: string
  /** What happened to the migration's bypass net, when it had one (removed, or why it is still there). */
  readonly bypassNet?: string
  /** The foreign keys moved to the shadow when it became authoritative, put back on legacy (or why not yet). */
  readonly foreignKeys?: string
}

/** Back to dual_write at 0 % with legacy authoritative; idempotent; refused only for complete. Needs no evidence. */
export async function rollback(pool: Pool, options: RollbackOptions): Promise<RollbackResult> {
  // A guardrail that trips on a group's member rolls the whole group back: a member never moves alone.
  const group = options.trigger === 'guardrail' ? await readGroupOf(pool, options.schema, options.migration) : undefined
  const target = group === undefined ? options : { ...options, migration: group, details: { ...options.details, trippedBy: options.migration } }
  let result: RollbackResult = await applyStateChange(pool, target, {
    action: 'rollback',
    kind: options.trigger === 'guardrail' ? 'guardrail_rollback' : 'rollback',
    makePlan: (current) => planRollback(target.migration, current),
    isGated: false,
  })
  // Each rolled-back migration's bypass net comes off (a group's: every member's).
  const nets: string[] = []
  for (const migration of result.members ?? [options.migration]) {
    const net = await removeNetAfterRollback(pool, { schema: options.schema, migration, actor: options.actor, reason: options.reason })
    if (net) nets.push(`${migration}: ${net}`)
  }
  const keys: string[] = []
  for (const migration of result.members ?? [options.migration]) {
    const back = await moveForeignKeysBackAfterRollback(pool, { schema: options.schema, migration, actor: options.actor, reason: options.reason })
    if (back) keys.push(result.members === undefined ? back : `${migration}: ${back}`)
  }
  if (keys.length > 0) result = { ...result, foreignKeys: keys.join('; ') }
  if (nets.length > 0) result = { ...result, bypassNet: nets.length === 1 && result.members === undefined ? (nets[0] as string).slice(options.migration.length + 2) : nets.join('; ') }
  // A group's members route with the control schema alone (config refuses Unleash for them).
  if (options.unleash === false || result.members !== undefined) return result
  const mirror = await mirrorRollback(pool, { schema: options.schema, migration: options.migration, url: options.unleash?.url, env: options.unleash?.env })
  return { ...result, ...(mirror.said ? { unleash: mirror.said } : {}), ...(mirror.warning ? { unleashWarning: mirror.warning } : {}) }
}
