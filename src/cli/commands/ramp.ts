/** `cutover ramp`: its definition; the handler loads when it runs. */
import { defineCommand } from '../command.js'

export interface RampArgs {
  migration: string
  percent: string
  force: boolean
  'unleash-url'?: string
}

export const rampCommand = defineCommand<RampArgs>({
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
  builder: (y) =>
    y
      .positional('migration', { type: 'string', demandOption: true })
      .positional('percent', { type: 'string', demandOption: true, describe: 'whole number 0-100' })
      .option('force', { type: 'boolean', default: false, describe: 'override the ramp gate (recorded)' })
      .option('unleash-url', {
        type: 'string',
        describe: 'Unleash API URL for Unleash-routed migrations (default: $UNLEASH_URL)',
      }) as never,
  run: async (ctx, args) => (await import('../handlers/ramp.js')).rampHandler(ctx, args),
})
