/** `cutover calibrate`: checks --sample, runs the calibration, prints each noisy column with its fix. */
import { CheckFailed, ConfigInvalid } from '../../core/errors.js'
import { runCalibration } from '../../jobs/entry/calibrate.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { CalibrateArgs } from '../commands/calibrate.js'

const MAX_SAMPLE = 1_000_000

export async function calibrateHandler(ctx: CommandContext, args: GlobalArgs & CalibrateArgs): Promise<void> {
  if (!Number.isInteger(args.sample) || args.sample < 1 || args.sample > MAX_SAMPLE) {
    throw new ConfigInvalid(
      undefined,
      `--sample must be a whole number from 1 to ${MAX_SAMPLE}, not ${String(args.sample)}`,
    )
  }
  const result = await runCalibration(ctx.pool, {
    schema: ctx.schema,
    migration: args.migration,
    actor: ctx.actor,
    reason: ctx.reason,
    sample: args.sample,
  })
  ctx.emit({
    migration: result.migration,
    sampled: result.sampled,
    noisy: result.noisy,
    differences: result.differences,
    errors: result.errors,
    columns: result.columns,
    ...(result.error ? { error: result.error } : {}),
  })
  if (result.error)
    throw new CheckFailed(
      `${args.migration}: calibration could not compare the sample: ${result.error}; fix the forward mapping (or the legacy rows it fails on), then run: cutover calibrate ${args.migration}`,
    )
  ctx.say(
    `${args.migration}: sampled ${result.sampled} live rows: noise floor ${result.differences}${result.errors ? `, ${result.errors} comparison(s) failed` : ''}${result.noisy ? '' : ' (clean)'}`,
  )
  for (const c of result.columns) {
    const fix = c.normaliser
      ? `fix: "compare": {"${c.column}": "${c.normaliser}"}`
      : 'no normaliser fixes it: its forward expression is not a function of the row'
    ctx.say(
      `  ${c.column}: ${c.differences} row(s) differ, e.g. legacy ${JSON.stringify(c.example.legacy)} vs shadow ${JSON.stringify(c.example.shadow)}; ${fix}`,
    )
  }
  if (result.noisy)
    throw new CheckFailed(
      `${args.migration}: the comparison finds differences in identical data; set the normalisers listed, run cutover register, then cutover calibrate ${args.migration}`,
    )
}
