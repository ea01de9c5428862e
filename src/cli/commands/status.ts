/** `cutover status`: its definition; the handler loads when it runs. */
import { defineCommand } from '../command.js'

export interface StatusArgs {
  migration?: string
  events: number
}

export const statusCommand = defineCommand<StatusArgs>({
  command: 'status [migration]',
  describe: 'Show phase, read percentage, backfill, verify, divergences, listeners and recent events',
  epilog: 'Changes nothing.',
  builder: (y) =>
    y
      .positional('migration', { type: 'string', describe: 'one migration, or a group (its members) (default: all)' })
      .option('events', { type: 'number', default: 5, describe: 'how many recent events to show' }) as never,
  run: async (ctx, args) => (await import('../handlers/status.js')).statusHandler(ctx, args),
})
