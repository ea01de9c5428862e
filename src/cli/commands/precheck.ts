/** `cutover precheck <migration>`: every legacy row the mapping cannot carry, by class, before any application write depends on it. Its definition; the handler loads when it runs. */
import { DEFAULT_PRECHECK_EXAMPLES } from '../../jobs/job-defaults.js'
import { defineCommand } from '../command.js'

export interface PrecheckArgs {
  migration: string
  examples: number
  'chunk-rows'?: number
}

export const precheckCommand = defineCommand<PrecheckArgs>({
  command: 'precheck <migration>',
  describe:
    'Try the mapping on every legacy row of a migration or a group (writing nothing); exit 1 if any row cannot be mapped',
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
  builder: (y) =>
    y
      .positional('migration', { type: 'string', demandOption: true })
      .option('examples', {
        type: 'number',
        default: DEFAULT_PRECHECK_EXAMPLES,
        describe: 'example keys to list per class',
      })
      .option('chunk-rows', {
        type: 'number',
        describe: 'legacy rows in the first chunk (adapts toward 200 ms per chunk)',
      }) as never,
  run: async (ctx, args) => (await import('../handlers/precheck.js')).precheckHandler(ctx, args),
})
