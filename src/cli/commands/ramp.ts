import { ConfigInvalid } from '../../core/errors.js'
import { ramp, RampNotMirrored, type RampResult } from '../../actions/ramp.js'
import type { KeysMoved } from '../../store/state/routing-sample-sql.js'
import { defineCommand } from '../command.js'
import type { CommandContext } from '../context.js'
import { printStateChange } from './state-change.js'

export const rampCommand = defineCommand<{ migration: string; percent: string; force: boolean; 'unleash-url'?: string }>({
  command: 'ramp <migration> <percent>',
  describe: 'Set the share of routing keys that read from the shadow (0-100)',
  epilog: `Works in shadow_read (entering ramp) and ramp. Entering ramp needs a finished backfill and a clean verify after it.
Keys are sticky: a key reading the shadow at p % keeps reading it at every higher p; lowering p sends exactly the keys above it back to legacy.
At 100 % every read goes to the shadow whatever its key. A read without a routing key is routed by its row key.
After the change it says how many routing keys moved, estimated from the keys the running instances read in the last 5-10 minutes.
Changes: the read percentage; every running instance follows within a second.
Undo: cutover ramp <migration> <lower percent>, or cutover rollback <migration> for 0 % at once.
A migration routed with Unleash also gets its toggle's flexibleRollout set to the percentage and enabled
(--unleash-url or UNLEASH_URL; token from UNLEASH_ADMIN_TOKEN; UNLEASH_PROJECT, UNLEASH_ENVIRONMENT).`,
  builder: (y) => y
    .positional('migration', { type: 'string', demandOption: true })
    .positional('percent', { type: 'string', demandOption: true, describe: 'whole number 0-100' })
    .option('force', { type: 'boolean', default: false, describe: 'override the ramp gate (recorded)' })
    .option('unleash-url', { type: 'string', describe: 'Unleash API URL for Unleash-routed migrations (default: $UNLEASH_URL)' }) as never,
  run: async (ctx, args) => {
    const text = String(args.percent).replace(/%$/, '')
    const percent = /^\d+$/.test(text) ? Number(text) : Number.NaN
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new ConfigInvalid(args.migration, `percent must be a whole number from 0 to 100, not "${args.percent}"; for example: cutover ramp ${args.migration} 5`)
    }
    let result: RampResult
    try {
      result = await ramp(ctx.pool, {
        schema: ctx.schema, migration: args.migration, percent, actor: ctx.actor, reason: ctx.reason, force: args.force, unleash: { url: args['unleash-url'] },
      })
    } catch (error) {
      // The control schema changed even though Unleash did not: say so before the error.
      if (error instanceof RampNotMirrored) printRamp(ctx, error.result)
      throw error
    }
    printRamp(ctx, result)
    if (result.unleash) ctx.say(result.unleash)
  },
})

function printRamp(ctx: CommandContext, result: RampResult): void {
  printStateChange(ctx, 'ramped', result, result.keysMoved ? { keysMoved: result.keysMoved } : {})
  if (result.keysMoved) ctx.say(describeKeysMoved(result.keysMoved))
}

function describeKeysMoved(moved: KeysMoved): string {
  if (moved.instances === 0) return 'keys moved: unknown (no running instance has reported a sample of recent ramp reads)'
  const side = moved.direction === 'to_legacy' ? 'back to legacy' : 'to the shadow'
  const share = moved.sampledKeys > 0 ? ` (${((100 * moved.keys) / moved.sampledKeys).toFixed(1)} %)` : ''
  return `keys moved ${side}: about ${moved.keys} of ${moved.sampledKeys}${share} routing keys read recently on ${moved.instances} instance(s)`
}
