/** `cutover divergences`: its definition; the handler loads when it runs. */
import { defineCommand } from '../command.js'

export interface DivergencesArgs {
  migration: string
  all: boolean
  limit: number
}

export const divergencesCommand = defineCommand<DivergencesArgs>({
  command: 'divergences <migration>',
  describe: 'List recorded divergences with both rows and the columns that differ',
  epilog: 'Changes nothing. Fix them with: cutover repair <migration>.',
  builder: (y) =>
    y
      .positional('migration', { type: 'string', demandOption: true })
      .option('all', { type: 'boolean', default: false, describe: 'include repaired ones' })
      .option('limit', { type: 'number', default: 50, describe: 'at most this many' }) as never,
  run: async (ctx, args) => (await import('../handlers/divergences.js')).divergencesHandler(ctx, args),
})
