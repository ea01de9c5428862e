/** `cutover init`: its definition; the handler loads when it runs. */
import { defineCommand } from '../command.js'

export const initCommand = defineCommand({
  command: 'init',
  describe: 'Create or upgrade the control schema (safe to run again)',
  epilog:
    'Changes: creates the control schema (--schema, default "cutover") and applies any sql/ file not yet applied, each in one transaction.\nUndo: nothing to undo; re-running is a no-op. An edited sql/ file is refused.',
  builder: (y) => y,
  run: async (ctx) => (await import('../handlers/init.js')).initHandler(ctx),
})
