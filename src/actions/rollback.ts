/** `cutover rollback`: every read back on legacy at once; the Unleash toggle of an Unleash-routed migration disabled too. */
import { planRollback } from '../core/phases.js'
import { mirrorRollback } from '../flags/unleash-mirror.js'
import { readGroupOf } from '../store/groups/group-members-sql.js'
import type { ActionOptions, ActionResult, UnleashMirrorOptions } from './action-options.js'
import { applyStateChange, type Pool } from './apply-state-change.js'

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
}

/** Back to dual_write at 0 % with legacy authoritative; idempotent; refused only for complete. Needs no evidence. */
export async function rollback(pool: Pool, options: RollbackOptions): Promise<RollbackResult> {
  // A guardrail that trips on a group's member rolls the whole group back: a member never moves alone.
  const group = options.trigger === 'guardrail' ? await readGroupOf(pool, options.schema, options.migration) : undefined
  const target = group === undefined ? options : { ...options, migration: group, details: { ...options.details, trippedBy: options.migration } }
  const result = await applyStateChange(pool, target, {
    action: 'rollback',
    kind: options.trigger === 'guardrail' ? 'guardrail_rollback' : 'rollback',
    makePlan: (current) => planRollback(target.migration, current),
    isGated: false,
  })
  // A group's members route with the control schema alone (config refuses Unleash for them).
  if (options.unleash === false || result.members !== undefined) return result
  const mirror = await mirrorRollback(pool, { schema: options.schema, migration: options.migration, url: options.unleash?.url, env: options.unleash?.env })
  return { ...result, ...(mirror.said ? { unleash: mirror.said } : {}), ...(mirror.warning ? { unleashWarning: mirror.warning } : {}) }
}
