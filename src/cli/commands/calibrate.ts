/** `cutover calibrate`: its definition; the handler loads when it runs. */
import { DEFAULT_CALIBRATION_SAMPLE } from '../../jobs/job-defaults.js'
import { defineCommand } from '../command.js'

export interface CalibrateArgs {
  migration: string
  sample: number
}

export const calibrateCommand = defineCommand<CalibrateArgs>({
  command: 'calibrate <migration>',
  describe:
    'Compare live legacy rows with themselves through the read comparison; exit 1 if the comparison itself finds differences',
  epilog: `Measures the noise floor: up to --sample live legacy rows (a block sample) are each
compared with themselves: carried through the forward mapping into the shadow's column types,
then projected, normalised and hashed exactly as a compared read does, in one statement.
Every difference is noise the comparison would report on identical data: it must be 0.
Each noisy column comes with a count, an example pair and the normaliser that makes it equal:
set "compare": {"<column>": "<normaliser>"}, run cutover register, then calibrate again.
"No normaliser fixes it": the forward expression gives a new value each time it is evaluated
(random(), clock_timestamp(), ...); make it a function of the row.
Safe while the application runs, in any phase: reads the legacy table only, never the shadow.
Changes: one 'calibrate' event; entering ramp is refused while the last one was noisy (--force).
Exit: 0 floor is zero; 1 noisy, or the mapping failed on a sampled row; 2 unknown migration.`,
  builder: (y) =>
    y.positional('migration', { type: 'string', demandOption: true }).option('sample', {
      type: 'number',
      default: DEFAULT_CALIBRATION_SAMPLE,
      describe: 'live legacy rows to compare (at most)',
    }) as never,
  run: async (ctx, args) => (await import('../handlers/calibrate.js')).calibrateHandler(ctx, args),
})
