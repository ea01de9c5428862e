import { applyControlSchema } from '../../store/control-schema/apply-control-schema.js'
import { defineCommand } from '../command.js'

export const initCommand = defineCommand({
  command: 'init',
  describe: 'Create or upgrade the control schema (safe to run again)',
  epilog: 'Changes: creates the control schema (--schema, default "cutover") and applies any sql/ file not yet applied, each in one transaction.\nUndo: nothing to undo; re-running is a no-op. An edited sql/ file is refused.',
  builder: (y) => y,
  run: async (ctx) => {
    const result = await applyControlSchema(ctx.pool, { schema: ctx.schema })
    ctx.emit({ schema: ctx.schema, applied: result.applied, alreadyApplied: result.alreadyApplied })
    ctx.say(result.applied.length > 0
      ? `control schema "${ctx.schema}": applied ${result.applied.join(', ')}`
      : `control schema "${ctx.schema}" is up to date (${result.alreadyApplied.length} files already applied)`)
  },
})
