/** `cutover precheck`: checks the options, runs the prechecks, prints each class of failure. */
import { CheckFailed, ConfigInvalid } from '../../core/errors.js'
import { describeClass } from '../../core/precheck-classes.js'
import { describeSessionDependent } from '../../core/session-dependent.js'
import { runPrechecks } from '../../jobs/groups/group-jobs.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { PrecheckArgs } from '../commands/precheck.js'

const MAX_EXAMPLES = 1000

function wholeNumber(name: string, value: number | undefined, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > max)) {
    throw new ConfigInvalid(undefined, `--${name} must be a whole number from 1 to ${max}, not ${String(value)}`)
  }
}

export async function precheckHandler(ctx: CommandContext, args: GlobalArgs & PrecheckArgs): Promise<void> {
  wholeNumber('examples', args.examples, MAX_EXAMPLES)
  wholeNumber('chunk-rows', args['chunk-rows'], 50_000)
  const results = await runPrechecks(ctx.pool, {
    schema: ctx.schema,
    migration: args.migration,
    actor: ctx.actor,
    reason: ctx.reason,
    examples: args.examples,
    chunkRows: args['chunk-rows'],
  })
  ctx.emit(
    results.length === 1 && results[0]?.migration === args.migration
      ? results[0]
      : { group: args.migration, members: results },
  )
  for (const result of results) {
    ctx.say(
      `${result.migration}: precheck of ${result.rows} legacy rows (definition version ${result.definitionVersion}): ` +
        (result.clean
          ? 'every row maps and comes back unchanged (clean)'
          : `${result.failingRows} cannot be mapped or do not come back unchanged, in ${result.classes.length} class(es)`),
    )
    for (const c of result.classes) {
      ctx.say(`  ${describeClass(c)}: ${c.count} row(s)`)
      ctx.say(`    ${c.kind === 'round_trip' && c.sqlstate === '' ? 'first' : 'error'}: ${c.message}`)
      const values = c.exampleValues
      const keys = c.examples.map(
        (k, i) =>
          `${JSON.stringify(k)}${values?.[i] ? ` (${JSON.stringify(values[i].legacy)} reads back as ${JSON.stringify(values[i].roundTrip)})` : ''}`,
      )
      ctx.say(`    keys: ${keys.join(', ')}${c.count > c.examples.length ? ', …' : ''}`)
      ctx.say(`    list them all: ${c.query}`)
    }
    for (const cast of result.sessionDependent)
      ctx.say(`  note: ${describeSessionDependent(cast, result.session ?? {})}`)
    if (!result.collisionsChecked)
      ctx.say('  (rows that map onto the same unique key of the shadow are looked for once every row maps)')
  }
  const m = args.migration
  const failing = results.filter((result) => !result.clean)
  if (failing.length > 0) {
    const rows = failing.reduce((sum, result) => sum + result.failingRows, 0)
    throw new CheckFailed(
      `${failing.map((result) => result.migration).join(', ')}: ${rows} legacy row(s) cannot be mapped or do not come back unchanged; fix them (or the mapping), then run: cutover precheck ${m}`,
    )
  }
  ctx.say(`next: cutover advance ${m}`)
}
