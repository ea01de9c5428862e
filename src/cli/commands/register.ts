/** `cutover register`: its definition; the handler loads when it runs. */
import { defineCommand } from '../command.js'

export interface RegisterArgs {
  config: string
  force: boolean
}

export const registerCommand = defineCommand<RegisterArgs>({
  command: 'register',
  describe: 'Validate migration definitions against the live database and register them',
  epilog: `Changes: writes each definition to the control schema (a new migration starts in phase "off") and an event.
Nothing is written if any definition is refused; an identical definition is left as it is.
A changed definition gets a new definition version: running application processes reload it within a second and acknowledge it
(the output says how many did, and names those that did not). A changed forward/backward mapping from dual_write on is shown
as a diff and refused without --force (processes move over one by one, so rows written meanwhile follow the old mapping;
run cutover verify after it). Undo: re-register the previous config file.`,
  builder: (y) =>
    y
      .option('config', {
        type: 'string',
        demandOption: true,
        describe: 'JSON file, or an ES module whose default export is the config',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'accept a mapping change while writers dual-write (recorded in the event log)',
      }) as never,
  run: async (ctx, args) => (await import('../handlers/register.js')).registerHandler(ctx, args),
})
