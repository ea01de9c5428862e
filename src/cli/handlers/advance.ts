/** `cutover advance`: the action, then what changed. */
import { advance } from '../../actions/advance.js'
import { printStateChange } from './state-change.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { AdvanceArgs } from '../commands/advance.js'

export async function advanceHandler(ctx: CommandContext, args: GlobalArgs & AdvanceArgs): Promise<void> {
  const result = await advance(ctx.pool, {
    schema: ctx.schema,
    migration: args.migration,
    to: args.to,
    actor: ctx.actor,
    reason: ctx.reason,
    force: args.force,
    confirm: args.confirm,
  })
  printStateChange(ctx, 'advanced', result)
}
