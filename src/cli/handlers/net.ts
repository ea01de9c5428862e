/** `cutover net install|remove`: the action, then what it means for writers that bypass the DAL. */
import { installBypassNet, removeBypassNet } from '../../actions/bypass-net.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { NetArgs } from '../commands/net.js'

export async function netHandler(ctx: CommandContext, args: GlobalArgs & NetArgs): Promise<void> {
  const common = {
    schema: ctx.schema,
    migration: args.migration,
    actor: ctx.actor,
    reason: ctx.reason,
    lockTimeoutMs: args['lock-timeout-ms'],
  }
  if (args.action === 'install') {
    const result = await installBypassNet(ctx.pool, { ...common, mode: args.mode ?? '' })
    ctx.emit(result)
    ctx.say(
      `${result.migration}: bypass net installed in ${result.mode} mode${result.replaced ? ` (replaced the ${result.replaced.mode}-mode net)` : ''}`,
    )
    const b = result.built
    ctx.say(
      `  built from definition version ${b.definitionVersion}, registered by ${b.registeredBy}${b.registeredAt ? ` at ${b.registeredAt.toISOString()}` : ''}; it runs as you:`,
    )
    for (const m of b.forward) ctx.say(`    ${m.column} = ${m.expression.replace(/\s+/g, ' ')}`)
    ctx.say(
      result.mode === 'record'
        ? `  writes that bypass the DAL are counted and recorded as divergences; copy them with: cutover repair ${result.migration}`
        : '  writes that bypass the DAL are counted and copied to the shadow in their own transaction',
    )
    ctx.say(`  see who writes: cutover doctor ${result.migration}; remove: cutover net remove ${result.migration}`)
    return
  }
  const result = await removeBypassNet(ctx.pool, common)
  ctx.emit({ migration: result.migration, removed: result.removed ?? null })
  ctx.say(
    result.removed
      ? `${result.migration}: bypass net (${result.removed.mode} mode) removed; writes that bypass the DAL now reach legacy only`
      : `${result.migration}: no bypass net installed; nothing changed`,
  )
}
