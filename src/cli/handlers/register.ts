/** `cutover register`: loads the config, registers it, prints each outcome and who loaded it. */
import { describeUnacknowledged } from '../../actions/acknowledgements.js'
import { registerMigrations, type RegisteredMigration } from '../../actions/register.js'
import { loadConfig } from '../../config/load-config.js'
import { MappingChangeRefused } from '../../core/errors.js'
import { describeMappingChange } from '../../core/mapping-diff.js'
import { describeSessionDependent } from '../../core/session-dependent.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { RegisterArgs } from '../commands/register.js'

function printOne(ctx: CommandContext, c: RegisteredMigration): void {
  const name = c.definition.name
  for (const cast of c.sessionDependent)
    ctx.say(`${name}: ${describeSessionDependent(cast, c.definition.session ?? {})}`)
  const mapped = `${c.mapping.forward.length} shadow columns mapped, ${c.mapping.backward.length} legacy columns mapped back`
  if (c.outcome === 'unchanged') {
    ctx.say(`${name}: unchanged (definition version ${c.definitionVersion}); nothing written`)
    return
  }
  ctx.say(
    c.outcome === 'registered'
      ? `registered ${name}: ${mapped}`
      : `re-registered ${name}: definition version ${c.definitionVersion}, ${mapped}`,
  )
  for (const change of c.mappingChanges) ctx.say(`  ${describeMappingChange(change)}`)
  for (const note of c.notes ?? []) ctx.say(`  note: ${note}`)
  const acks = c.acknowledgements
  if (!acks) return
  ctx.say(
    `definition version ${c.definitionVersion} loaded by ${acks.acknowledged} of ${acks.listeners} running processes within 1 s`,
  )
  if (acks.unacknowledged.length > 0) {
    ctx.say(
      `not loaded by: ${describeUnacknowledged(acks.unacknowledged)}; they keep the previous definition (see their log for why) until they load it: check with cutover doctor ${name}, restart them if it persists`,
    )
  }
}

export async function registerHandler(ctx: CommandContext, args: GlobalArgs & RegisterArgs): Promise<void> {
  const definitions = await loadConfig(args.config)
  let registered: RegisteredMigration[]
  try {
    registered = await registerMigrations(ctx.pool, definitions, {
      schema: ctx.schema,
      actor: ctx.actor,
      reason: ctx.reason,
      force: args.force,
      source: args.config,
    })
  } catch (error) {
    if (error instanceof MappingChangeRefused) {
      ctx.say(`${error.migration}: the mapping would change in ${error.phase}:`)
      for (const change of error.changes) ctx.say(`  ${change}`)
    }
    throw error
  }
  ctx.emit({
    registered: registered.map((c) => ({
      name: c.definition.name,
      outcome: c.outcome,
      definitionVersion: c.definitionVersion,
      forward: c.mapping.forward,
      backward: c.mapping.backward,
      mappingChanges: c.mappingChanges,
      session: c.definition.session,
      sessionDependent: c.sessionDependent,
      ...(c.notes ? { notes: c.notes } : {}),
      ...(c.acknowledgements
        ? {
            acknowledged: c.acknowledgements.acknowledged,
            listeners: c.acknowledgements.listeners,
            unacknowledged: c.acknowledgements.unacknowledged,
          }
        : {}),
    })),
  })
  for (const c of registered) printOne(ctx, c)
}
