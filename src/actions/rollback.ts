/** `cutover rollback`: every read back on legacy at once; the Unleash toggle of an Unleash-routed migration disabled too. */
import { isPhase, planRollback } from '../core/phases.js'
import { guardrailRollback } from '../store/state/guardrail-rollback-sql.js'
import { mirrorRollback } from '../flags/unleash-mirror.js'
import { readEnclosingTarget } from '../store/groups/group-target.js'
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

/**
 * A guardrail's rollback, from an application process: through the control schema's guardrail_rollback, the one
 * state change the application role may make (it can only go back). A group's member takes its whole group back.
 * Nobody waits for acknowledgements: the process that tripped applies the state it wrote at once.
 */
async function rollbackByGuardrail(pool: Pool, options: RollbackOptions): Promise<RollbackResult> {
  const target = await readEnclosingTarget(pool, options.schema, options.migration)
  const moved = await guardrailRollback(pool, options.schema, {
    migration: options.migration,
    actor: options.actor,
    reason: options.reason,
    details: options.details,
  })
  const first = moved[0]
  const to = { phase: first ? ('dual_write' as const) : ('off' as const), readPercent: 0 }
  return {
    migration: target.name,
    from: first && isPhase(first.fromPhase) ? { phase: first.fromPhase, readPercent: first.fromPercent } : to,
    to,
    changed: moved.length > 0,
    acknowledged: 0,
    listeners: 0,
    unacknowledged: [],
    ...(target.group === undefined ? {} : { members: moved.map((m) => m.migration).sort() }),
  }
}

/** Back to dual_write at 0 % with legacy authoritative; idempotent; refused only for complete. Needs no evidence. */
export async function rollback(pool: Pool, options: RollbackOptions): Promise<RollbackResult> {
  // A guardrail that trips on a group's member rolls the whole group back: a member never moves alone.
  let result: RollbackResult =
    options.trigger === 'guardrail'
      ? await rollbackByGuardrail(pool, options)
      : await applyStateChange(pool, options, {
          action: 'rollback',
          kind: 'rollback',
          makePlan: (current) => planRollback(options.migration, current),
          isGated: false,
        })
  // Each rolled-back migration's bypass net comes off (a group's: every member's).
  const nets: string[] = []
  for (const migration of result.members ?? [options.migration]) {
    const net = await removeNetAfterRollback(pool, {
      schema: options.schema,
      migration,
      actor: options.actor,
      reason: options.reason,
    })
    if (net) nets.push(`${migration}: ${net}`)
  }
  const keys: string[] = []
  for (const migration of result.members ?? [options.migration]) {
    const back = await moveForeignKeysBackAfterRollback(pool, {
      schema: options.schema,
      migration,
      actor: options.actor,
      reason: options.reason,
    })
    if (back) keys.push(result.members === undefined ? back : `${migration}: ${back}`)
  }
  if (keys.length > 0) result = { ...result, foreignKeys: keys.join('; ') }
  if (nets.length > 0)
    result = {
      ...result,
      bypassNet:
        nets.length === 1 && result.members === undefined
          ? (nets[0] as string).slice(options.migration.length + 2)
          : nets.join('; '),
    }
  // A group's members route with the control schema alone (config refuses Unleash for them).
  if (options.unleash === false || result.members !== undefined) return result
  const mirror = await mirrorRollback(pool, {
    schema: options.schema,
    migration: options.migration,
    url: options.unleash?.url,
    env: options.unleash?.env,
  })
  return {
    ...result,
    ...(mirror.said ? { unleash: mirror.said } : {}),
    ...(mirror.warning ? { unleashWarning: mirror.warning } : {}),
  }
}
