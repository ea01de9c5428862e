/** retire and unretire: the last step of a cutover (rename the legacy table, move foreign keys, optional alias view) and its undo. */
import { ForeignKeysCannotMove } from '../../store/retire/retire-errors.js'
import { DEFAULT_RETIRE_LOCK_TIMEOUT_MS, retireTarget, unretireTarget } from '../../actions/retire.js'
import type { RetireResult, UnretireResult } from '../../actions/retire.js'
import { defineCommand } from '../command.js'
import type { CommandContext } from '../context.js'

/** Prints each foreign key that cannot move (with the query listing its rows), then lets the one-line error follow. */
async function explainRefusal<T>(ctx: CommandContext, migration: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof ForeignKeysCannotMove) {
      ctx.emit({ migration, changed: false, refused: { action: error.action, target: error.target, problems: error.problems }, error: { message: error.message, exitCode: error.exitCode, type: error.name } })
      for (const p of error.problems) {
        ctx.say(`cannot move ${p.foreignKey}: ${p.reason}`)
        if (p.listQuery) ctx.say(`  list them: ${p.listQuery};`)
      }
    }
    throw error
  }
}

export const retireCommand = defineCommand<{ migration: string; alias: boolean; force: boolean; 'lock-timeout-ms': number }>({
  command: 'retire <migration>',
  describe: 'Last step after complete: rename the legacy table to <name>_retired (never a drop), move foreign keys to the shadow',
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
  builder: (y) => y
    .positional('migration', { type: 'string', demandOption: true })
    .option('alias', { type: 'boolean', default: false, describe: 'create a view under the legacy name through the backward mapping' })
    .option('force', { type: 'boolean', default: false, describe: 'override the retire soak (recorded in the event log)' })
    .option('lock-timeout-ms', { type: 'number', default: DEFAULT_RETIRE_LOCK_TIMEOUT_MS, describe: 'longest wait for each table lock; then nothing changes' }) as never,
  run: async (ctx, args) => {
    const results = await explainRefusal(ctx, args.migration, () => retireTarget(ctx.pool, {
      schema: ctx.schema, migration: args.migration, actor: ctx.actor, reason: ctx.reason, alias: args.alias, force: args.force, lockTimeoutMs: args['lock-timeout-ms'],
    }))
    const isGroup = results.length !== 1 || results[0]?.migration !== args.migration
    ctx.emit(isGroup ? { group: args.migration, members: results } : results[0])
    if (isGroup) ctx.say(`group ${args.migration}: every member retired in one transaction`)
    for (const result of results) printRetired(ctx, result)
    ctx.say(`undo: cutover unretire ${args.migration}`)
  },
})

function printRetired(ctx: CommandContext, result: RetireResult): void {
  if (!result.changed) {
    ctx.say(`${result.migration}: already retired (legacy table is ${result.retiredTable}${result.alias ? `, alias view ${result.alias.view}` : ''}); nothing changed`)
  } else {
    ctx.say(`${result.migration}: retired${result.forced ? ` (FORCED: ${result.overriddenBecause ?? ''})` : ''}: ${result.legacyTable} renamed to ${result.retiredTable}`)
    for (const fk of result.foreignKeys) ctx.say(`  foreign key ${fk.foreignKey}: ${fk.action === 'moved' ? `now references ${fk.references}` : 'dropped (an equivalent one to the shadow exists)'}`)
    if (result.alias) {
      ctx.say(`  alias view ${result.alias.view}: reads the shadow through the backward mapping${result.alias.grants.length ? `; granted ${result.alias.grants.join(', ')}` : ''}`)
      ctx.say(`    writable columns: ${result.alias.isUpdatable && result.alias.updatableColumns.length ? result.alias.updatableColumns.join(', ') : 'none'}; read-only: ${result.alias.readOnlyColumns.join(', ') || 'none'}`)
    }
  }
  ctx.say(`to drop the old table of ${result.migration} for good (no undo after this), a person runs: ${result.dropSql}`)
}

export const unretireCommand = defineCommand<{ migration: string; 'lock-timeout-ms': number }>({
  command: 'unretire <migration>',
  describe: 'Undo retire: drop the alias view, rename the legacy table back, move its foreign keys back',
  epilog: `Undoes exactly what the last retire recorded, in ONE transaction under a lock timeout (all or nothing).
Refused, changing nothing, when a foreign key cannot move back (exit 1): most often child rows written while retired that reference
keys the legacy table lacks (in complete nothing writes the legacy table); each is named with a query listing the rows.
Also refused when the retired table was dropped, or another relation took the legacy name. Idempotent: not retired means nothing to do.
Run it as the tables' owner. Redo: cutover retire <migration>.  Runbook: runbooks/retire.md`,
  builder: (y) => y
    .positional('migration', { type: 'string', demandOption: true })
    .option('lock-timeout-ms', { type: 'number', default: DEFAULT_RETIRE_LOCK_TIMEOUT_MS, describe: 'longest wait for each table lock; then nothing changes' }) as never,
  run: async (ctx, args) => {
    const results = await explainRefusal(ctx, args.migration, () => unretireTarget(ctx.pool, {
      schema: ctx.schema, migration: args.migration, actor: ctx.actor, reason: ctx.reason, lockTimeoutMs: args['lock-timeout-ms'],
    }))
    const isGroup = results.length !== 1 || results[0]?.migration !== args.migration
    ctx.emit(isGroup ? { group: args.migration, members: results } : results[0])
    for (const result of results) printUnretired(ctx, result)
  },
})

function printUnretired(ctx: CommandContext, result: UnretireResult): void {
  if (!result.changed) {
    ctx.say(`${result.migration}: not retired; nothing changed`)
    return
  }
  ctx.say(`${result.migration}: unretired: ${result.legacyTable} is the legacy table again${result.aliasDropped ? ' (alias view dropped)' : ''}`)
  for (const fk of result.foreignKeys) ctx.say(`  foreign key ${fk.foreignKey}: references ${fk.references} again`)
}
