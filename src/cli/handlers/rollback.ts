/** `cutover rollback`: the action, then what changed (and what happened to Unleash and the bypass net). */
import { rollback } from '../../actions/rollback.js'
import { printStateChange } from './state-change.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { RollbackArgs } from '../commands/rollback.js'

export async function rollbackHandler(ctx: CommandContext, args: GlobalArgs & RollbackArgs): Promise<void> {
  const result = await rollback(ctx.pool, {
    schema: ctx.schema,
    migration: args.migration,
    actor: ctx.actor,
    reason: ctx.reason,
    trigger: 'manual',
    unleash: { url: args['unleash-url'] },
  })
  printStateChange(ctx, 'rolled back', result)
  if (result.unleash) ctx.say(result.unleash)
  if (result.bypassNet) ctx.say(result.bypassNet)
  if (result.foreignKeys) ctx.say(result.foreignKeys)
  if (result.unleashWarning) process.stderr.write(`cutover: warning: ${result.unleashWarning}\n`)
}
