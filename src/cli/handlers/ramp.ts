/** `cutover ramp`: checks the percentage, ramps, prints what changed and how many routing keys moved. */
import { ConfigInvalid } from '../../core/errors.js'
import { ramp, RampNotMirrored, type RampResult } from '../../actions/ramp.js'
import type { KeysMoved } from '../../store/state/routing-sample-sql.js'
import { printStateChange } from './state-change.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { RampArgs } from '../commands/ramp.js'

export async function rampHandler(ctx: CommandContext, args: GlobalArgs & RampArgs): Promise<void> {
  const text = String(args.percent).replace(/%$/, '')
  const percent = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new ConfigInvalid(
      args.migration,
      `percent must be a whole number from 0 to 100, not "${args.percent}"; for example: cutover ramp ${args.migration} 5`,
    )
  }
  let result: RampResult
  try {
    result = await ramp(ctx.pool, {
      schema: ctx.schema,
      migration: args.migration,
      percent,
      actor: ctx.actor,
      reason: ctx.reason,
      force: args.force,
      unleash: { url: args['unleash-url'] },
    })
  } catch (error) {
    // The control schema changed even though Unleash did not: say so before the error.
    if (error instanceof RampNotMirrored) printRamp(ctx, error.result)
    throw error
  }
  printRamp(ctx, result)
  if (result.unleash) ctx.say(result.unleash)
}

function printRamp(ctx: CommandContext, result: RampResult): void {
  printStateChange(ctx, 'ramped', result, result.keysMoved ? { keysMoved: result.keysMoved } : {})
  if (result.keysMoved) ctx.say(describeKeysMoved(result.keysMoved))
}

function describeKeysMoved(moved: KeysMoved): string {
  if (moved.instances === 0)
    return 'keys moved: unknown (no running instance has reported a sample of recent ramp reads)'
  const side = moved.direction === 'to_legacy' ? 'back to legacy' : 'to the shadow'
  const share = moved.sampledKeys > 0 ? ` (${((100 * moved.keys) / moved.sampledKeys).toFixed(1)} %)` : ''
  return `keys moved ${side}: about ${moved.keys} of ${moved.sampledKeys}${share} routing keys read recently on ${moved.instances} instance(s)`
}
