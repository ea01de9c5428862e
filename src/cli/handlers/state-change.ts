/** Prints the result of advance, ramp and rollback the same way. */
import { describeUnacknowledged } from '../../actions/acknowledgements.js'
import type { ActionResult } from '../../actions/action-options.js'
import type { CommandContext } from '../context.js'

export function printStateChange(
  ctx: CommandContext,
  verb: string,
  result: ActionResult,
  extra: Record<string, unknown> = {},
): void {
  ctx.emit({
    migration: result.migration,
    ...(result.members ? { group: result.migration, members: result.members } : {}),
    from: result.from,
    to: result.to,
    changed: result.changed,
    acknowledged: result.acknowledged,
    listeners: result.listeners,
    unacknowledged: result.unacknowledged,
    ...extra,
  })
  const show = (s: { phase: string; readPercent: number }) =>
    `${s.phase}${s.phase === 'ramp' ? ` ${s.readPercent}%` : ''}`
  const subject = result.members ? `group ${result.migration} (${result.members.join(', ')})` : result.migration
  if (!result.changed) ctx.say(`${subject}: already ${show(result.to)}; nothing changed`)
  else
    ctx.say(
      `${subject}: ${verb} ${show(result.from)} -> ${show(result.to)}${result.members ? ', every member in one transaction' : ''}`,
    )
  ctx.say(`acknowledged by ${result.acknowledged} of ${result.listeners} listening processes within 1 s`)
  if (result.unacknowledged.length > 0) {
    ctx.say(
      `not acknowledged by: ${describeUnacknowledged(result.unacknowledged)}; they route by the state they last applied until they catch up (check them with: cutover doctor ${result.migration})`,
    )
  }
}
