import { ConfigInvalid } from '../../core/errors.js'
import { migrationGate } from '../../store/gate-check.js'
import { ramp } from '../../store/operator-actions.js'
import { defineCommand } from '../command.js'
import { printStateChange } from './state-change.js'

export const rampCommand = defineCommand<{ migration: string; percent: string; force: boolean }>({
  command: 'ramp <migration> <percent>',
  describe: 'Set the share of routing keys that read from the shadow (0-100)',
  epilog: `Works in shadow_read (entering ramp) and ramp. Entering ramp needs a finished backfill and a clean verify after it.
Keys are sticky: a key reading the shadow at p % keeps reading it at every higher p; lowering p sends exactly the keys above it back to legacy.
Changes: the read percentage; every running instance follows within a second.
Undo: cutover ramp <migration> <lower percent>, or cutover rollback <migration> for 0 % at once.`,
  builder: (y) => y
    .positional('migration', { type: 'string', demandOption: true })
    .positional('percent', { type: 'string', demandOption: true, describe: 'whole number 0-100' })
    .option('force', { type: 'boolean', default: false, describe: 'override the ramp gate (recorded)' }) as never,
  run: async (ctx, args) => {
    const text = String(args.percent).replace(/%$/, '')
    const percent = /^\d+$/.test(text) ? Number(text) : Number.NaN
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new ConfigInvalid(args.migration, `percent must be a whole number from 0 to 100, not "${args.percent}"; for example: cutover ramp ${args.migration} 5`)
    }
    const result = await ramp(ctx.pool, {
      schema: ctx.schema, migration: args.migration, percent, actor: ctx.actor, reason: ctx.reason, force: args.force,
      gate: migrationGate(ctx.schema, args.migration),
    })
    printStateChange(ctx, 'ramped', result)
  },
})
