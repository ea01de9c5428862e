import { rollback } from '../../store/operator-actions.js'
import { defineCommand } from '../command.js'
import { printStateChange } from './state-change.js'

export const rollbackCommand = defineCommand<{ migration: string }>({
  command: 'rollback <migration>',
  describe: 'Send every read back to legacy at once: dual_write, 0 %, legacy authoritative',
  epilog: `Safe at any time but after complete: both tables were written atomically all along, so nothing is lost.
Needs no config file. Idempotent: running it twice is fine.
Changes: phase -> dual_write, read percentage -> 0, authority -> legacy; every running instance follows within a second (the output says how many acknowledged).
Verify: cutover status <migration>.  Undo: cutover advance <migration> --to shadow_read, then cutover ramp <migration> <percent>.`,
  builder: (y) => y.positional('migration', { type: 'string', demandOption: true }) as never,
  run: async (ctx, args) => {
    const result = await rollback(ctx.pool, { schema: ctx.schema, migration: args.migration, actor: ctx.actor, reason: ctx.reason, trigger: 'manual' })
    printStateChange(ctx, 'rolled back', result)
  },
})
