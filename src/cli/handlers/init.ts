/** `cutover init`: applies the control schema, says what it applied. */
import { applyControlSchema } from '../../store/control-schema/apply-control-schema.js'
import type { CommandContext } from '../context.js'

export async function initHandler(ctx: CommandContext): Promise<void> {
  const result = await applyControlSchema(ctx.pool, { schema: ctx.schema })
  ctx.emit({ schema: ctx.schema, applied: result.applied, alreadyApplied: result.alreadyApplied })
  ctx.say(
    result.applied.length > 0
      ? `control schema "${ctx.schema}": applied ${result.applied.join(', ')}`
      : `control schema "${ctx.schema}" is up to date (${result.alreadyApplied.length} files already applied)`,
  )
}
