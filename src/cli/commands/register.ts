import { loadConfig } from '../../config/load-config.js'
import { registerMigrations } from '../../store/register.js'
import { defineCommand } from '../command.js'

export const registerCommand = defineCommand<{ config: string }>({
  command: 'register',
  describe: 'Validate migration definitions against the live database and register them',
  epilog: 'Changes: writes each definition to the control schema (a new migration starts in phase "off") and an event.\nNothing is written if any definition is refused. Undo: re-register the previous config file.',
  builder: (y) => y.option('config', { type: 'string', demandOption: true, describe: 'JSON file, or an ES module whose default export is the config' }),
  run: async (ctx, args) => {
    const definitions = await loadConfig(args.config)
    const checked = await registerMigrations(ctx.pool, definitions, { schema: ctx.schema, actor: ctx.actor, reason: ctx.reason })
    ctx.emit({ registered: checked.map((c) => ({ name: c.definition.name, forward: c.mapping.forward, backward: c.mapping.backward })) })
    for (const c of checked) ctx.say(`registered ${c.definition.name}: ${c.mapping.forward.length} shadow columns mapped, ${c.mapping.backward.length} legacy columns mapped back`)
  },
})
