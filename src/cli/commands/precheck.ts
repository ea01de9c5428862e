/** `cutover precheck <migration>`: every legacy row the mapping cannot carry, by class, before any application write depends on it. */
import { CheckFailed, ConfigInvalid } from '../../core/errors.js'
import { describeClass } from '../../core/precheck-classes.js'
import { runPrechecks } from '../../jobs/group-jobs.js'
import { DEFAULT_PRECHECK_EXAMPLES } from '../../jobs/precheck.js'
import { defineCommand } from '../command.js'

const MAX_EXAMPLES = 1000

function wholeNumber(name: string, value: number | undefined, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > max)) {
    throw new ConfigInvalid(undefined, `--${name} must be a whole number from 1 to ${max}, not ${String(value)}`)
  }
}

export const precheckCommand = defineCommand<{ migration: string; examples: number; 'chunk-rows'?: number }>({
  command: 'precheck <migration>',
  describe: 'Try the mapping on every legacy row of a migration or a group (writing nothing); exit 1 if any row cannot be mapped',
  epilog: `Runs forward (into the shadow's column types, NOT NULL, CHECK, unique and foreign keys) and backward
(into the legacy column types and constraints) over every legacy row, chunk by chunk in key order, inside
the database; every write it tries is rolled back. Then, if every row maps, looks for legacy rows that map
onto the same unique key of the shadow (upper- and lower-case UUIDs, say).
Prints each class of failure: its count, PostgreSQL's error, example keys, and a query that lists every key.
Entering dual_write (cutover advance <migration>) is refused until the last precheck of the registered
definition is clean; --force overrides that and is recorded.
Fix: correct the rows (UPDATE the legacy table) or the mapping (cutover register), then precheck again.
A group: each member in turn, parents first; a foreign key of a member's shadow to another member's shadow
judges each row against the parent rows it references, mapped from legacy as the backfill would copy them
(a row whose parent is missing from legacy too is reported, 23503). A member checked alone is judged the same way.
Changes: one 'precheck' event (per member); nothing in the legacy or shadow tables (sequence values a shadow column default
draws are not given back). Safe while the application runs: it locks nothing the application waits on for long.
Exit: 0 every row maps; 1 some rows cannot be mapped; 2 unknown migration or bad option.`,
  builder: (y) => y
    .positional('migration', { type: 'string', demandOption: true })
    .option('examples', { type: 'number', default: DEFAULT_PRECHECK_EXAMPLES, describe: 'example keys to list per class' })
    .option('chunk-rows', { type: 'number', describe: 'legacy rows in the first chunk (adapts toward 200 ms per chunk)' }) as never,
  run: async (ctx, args) => {
    wholeNumber('examples', args.examples, MAX_EXAMPLES)
    wholeNumber('chunk-rows', args['chunk-rows'], 50_000)
    const results = await runPrechecks(ctx.pool, {
      schema: ctx.schema, migration: args.migration, actor: ctx.actor, reason: ctx.reason, examples: args.examples, chunkRows: args['chunk-rows'],
    })
    ctx.emit(results.length === 1 && results[0]?.migration === args.migration ? results[0] : { group: args.migration, members: results })
    for (const result of results) {
      ctx.say(`${result.migration}: precheck of ${result.rows} legacy rows (definition version ${result.definitionVersion}): ` +
        (result.clean ? 'every row maps (clean)' : `${result.failingRows} cannot be mapped, in ${result.classes.length} class(es)`))
      for (const c of result.classes) {
        ctx.say(`  ${describeClass(c)}: ${c.count} row(s)`)
        ctx.say(`    error: ${c.message}`)
        ctx.say(`    keys: ${c.examples.map((k) => JSON.stringify(k)).join(', ')}${c.count > c.examples.length ? ', …' : ''}`)
        ctx.say(`    list them all: ${c.query}`)
      }
      if (!result.collisionsChecked) ctx.say('  (rows that map onto the same unique key of the shadow are looked for once every row maps)')
    }
    const m = args.migration
    const failing = results.filter((result) => !result.clean)
    if (failing.length > 0) {
      const rows = failing.reduce((sum, result) => sum + result.failingRows, 0)
      throw new CheckFailed(`${failing.map((result) => result.migration).join(', ')}: ${rows} legacy row(s) cannot be mapped; fix them (or the mapping), then run: cutover precheck ${m}`)
    }
    ctx.say(`next: cutover advance ${m}`)
  },
})
