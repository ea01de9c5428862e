import { CheckFailed, ConfigInvalid } from '../../core/errors.js'
import { DEFAULT_CALIBRATION_SAMPLE, runCalibration } from '../../jobs/calibrate.js'
import { defineCommand } from '../command.js'

const MAX_SAMPLE = 1_000_000

export const calibrateCommand = defineCommand<{ migration: string; sample: number }>({
  command: 'calibrate <migration>',
  describe: 'Compare live legacy rows with themselves through the read comparison; exit 1 if the comparison itself finds differences',
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
  builder: (y) => y
    .positional('migration', { type: 'string', demandOption: true })
    .option('sample', { type: 'number', default: DEFAULT_CALIBRATION_SAMPLE, describe: 'live legacy rows to compare (at most)' }) as never,
  run: async (ctx, args) => {
    if (!Number.isInteger(args.sample) || args.sample < 1 || args.sample > MAX_SAMPLE) {
      throw new ConfigInvalid(undefined, `--sample must be a whole number from 1 to ${MAX_SAMPLE}, not ${String(args.sample)}`)
    }
    const result = await runCalibration(ctx.pool, { schema: ctx.schema, migration: args.migration, actor: ctx.actor, reason: ctx.reason, sample: args.sample })
    ctx.emit({ migration: result.migration, sampled: result.sampled, noisy: result.noisy, differences: result.differences, errors: result.errors, columns: result.columns, ...(result.error ? { error: result.error } : {}) })
    if (result.error) throw new CheckFailed(`${args.migration}: calibration could not compare the sample: ${result.error}; fix the forward mapping (or the legacy rows it fails on), then run: cutover calibrate ${args.migration}`)
    ctx.say(`${args.migration}: sampled ${result.sampled} live rows: noise floor ${result.differences}${result.errors ? `, ${result.errors} comparison(s) failed` : ''}${result.noisy ? '' : ' (clean)'}`)
    for (const c of result.columns) {
      const fix = c.normaliser ? `fix: "compare": {"${c.column}": "${c.normaliser}"}` : 'no normaliser fixes it: its forward expression is not a function of the row'
      ctx.say(`  ${c.column}: ${c.differences} row(s) differ, e.g. legacy ${JSON.stringify(c.example.legacy)} vs shadow ${JSON.stringify(c.example.shadow)}; ${fix}`)
    }
    if (result.noisy) throw new CheckFailed(`${args.migration}: the comparison finds differences in identical data; set the normalisers listed, run cutover register, then cutover calibrate ${args.migration}`)
  },
})
