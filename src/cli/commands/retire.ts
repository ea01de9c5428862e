/** retire and unretire: the last step of a cutover (rename the legacy table, move foreign keys, optional alias view) and its undo. Their definitions; the handlers load when they run. */
import { DEFAULT_RETIRE_LOCK_TIMEOUT_MS } from '../../core/lock-timeouts.js'
import { defineCommand } from '../command.js'

export interface RetireArgs {
  migration: string
  alias: boolean
  force: boolean
  'lock-timeout-ms': number
}

export const retireCommand = defineCommand<RetireArgs>({
  command: 'retire <migration>',
  describe:
    'Last step after complete: rename the legacy table to <name>_retired (never a drop), move foreign keys to the shadow',
  epilog: `Allowed in phase complete once retireSoakSeconds (default 86400, one day) have passed since entering it; --force overrides the soak (recorded).
Changes, in ONE transaction under a lock timeout (all or nothing):
  - renames the legacy table to <name>_retired;
  - moves every foreign key of another table that references it to the shadow (same name, same options; referencing the
    shadow columns the backward mapping names plainly); if an equivalent one to the shadow exists (same columns and ON DELETE/
    ON UPDATE/MATCH/DEFERRABLE, as cutover doctor --apply adds it), only drops the old one;
  - with --alias, creates a view under the legacy name: SELECT <backward mapping> FROM shadow, with the legacy table's grants,
    so code not yet moved keeps reading it. Columns that are plain shadow columns of the same type can be written through it
    (PostgreSQL auto-updates a simple view); mapped or cast columns are read-only, and an INSERT works only if every shadow
    column it leaves out has a default. The output lists the writable and read-only columns.
Refused, changing nothing: not complete (exit 2); soak not over (exit 1); a foreign key that cannot move (exit 1, each one named:
no plain backward mapping for a referenced column, no unique key on the shadow's columns, a key to the shadow on the same columns
that acts differently (e.g. lacks ON DELETE CASCADE: make it match or run cutover doctor <migration> --apply), or child rows the
shadow has no parent for, with a query listing them); a lock not granted within --lock-timeout-ms (exit 3).
Already retired: nothing changes (exit 0). Run it as the tables' owner (ALTER TABLE and CREATE VIEW need ownership). The DAL keeps working: in complete it touches only the shadow.
After it, backfill, verify, repair, advance, rollback and register refuse the migration until it is unretired.
Given a group: every member in the one transaction; foreign keys between members' legacy tables stay between the retired tables.
Undo: cutover unretire <migration>.  Drop the old table for good (a person decides; no undo): the DROP TABLE it prints.
Runbook: runbooks/retire.md`,
  builder: (y) =>
    y
      .positional('migration', { type: 'string', demandOption: true })
      .option('alias', {
        type: 'boolean',
        default: false,
        describe: 'create a view under the legacy name through the backward mapping',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'override the retire soak (recorded in the event log)',
      })
      .option('lock-timeout-ms', {
        type: 'number',
        default: DEFAULT_RETIRE_LOCK_TIMEOUT_MS,
        describe: 'longest wait for each table lock; then nothing changes',
      }) as never,
  run: async (ctx, args) => (await import('../handlers/retire.js')).retireHandler(ctx, args),
})

export interface UnretireArgs {
  migration: string
  'lock-timeout-ms': number
}

export const unretireCommand = defineCommand<UnretireArgs>({
  command: 'unretire <migration>',
  describe: 'Undo retire: drop the alias view, rename the legacy table back, move its foreign keys back',
  epilog: `Undoes exactly what the last retire recorded, in ONE transaction under a lock timeout (all or nothing).
Refused, changing nothing, when a foreign key cannot move back (exit 1): most often child rows written while retired that reference
keys the legacy table lacks (in complete nothing writes the legacy table); each is named with a query listing the rows.
Also refused when the retired table was dropped, or another relation took the legacy name. Idempotent: not retired means nothing to do.
Run it as the tables' owner. Redo: cutover retire <migration>.  Runbook: runbooks/retire.md`,
  builder: (y) =>
    y.positional('migration', { type: 'string', demandOption: true }).option('lock-timeout-ms', {
      type: 'number',
      default: DEFAULT_RETIRE_LOCK_TIMEOUT_MS,
      describe: 'longest wait for each table lock; then nothing changes',
    }) as never,
  run: async (ctx, args) => (await import('../handlers/retire.js')).unretireHandler(ctx, args),
})
