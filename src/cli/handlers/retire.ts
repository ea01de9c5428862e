/** `cutover retire` and `cutover unretire`: run the action, print what moved; a refusal lists each foreign key that cannot move. */
import { ForeignKeysCannotMove } from '../../store/retire/retire-errors.js'
import { retireTarget, unretireTarget } from '../../actions/retire.js'
import type { RetireResult, UnretireResult } from '../../actions/retire.js'
import { targetDocument } from '../../core/target.js'
import { readTarget } from '../../store/groups/group-target.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { RetireArgs, UnretireArgs } from '../commands/retire.js'

/** Prints each foreign key that cannot move (with the query listing its rows), then lets the one-line error follow. */
async function explainRefusal<T>(ctx: CommandContext, migration: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof ForeignKeysCannotMove) {
      ctx.emit({
        migration,
        changed: false,
        refused: { action: error.action, target: error.target, problems: error.problems },
        error: { message: error.message, exitCode: error.exitCode, type: error.name },
      })
      for (const p of error.problems) {
        ctx.say(`cannot move ${p.foreignKey}: ${p.reason}`)
        if (p.listQuery) ctx.say(`  list them: ${p.listQuery};`)
      }
    }
    throw error
  }
}

export async function retireHandler(ctx: CommandContext, args: GlobalArgs & RetireArgs): Promise<void> {
  const target = await readTarget(ctx.pool, ctx.schema, args.migration)
  const results = await explainRefusal(ctx, args.migration, () =>
    retireTarget(
      ctx.pool,
      {
        schema: ctx.schema,
        migration: args.migration,
        actor: ctx.actor,
        reason: ctx.reason,
        alias: args.alias,
        force: args.force,
        lockTimeoutMs: args['lock-timeout-ms'],
      },
      target,
    ),
  )
  ctx.emit(targetDocument(target, results))
  if (target.group !== undefined) ctx.say(`group ${target.group}: every member retired in one transaction`)
  for (const result of results) printRetired(ctx, result)
  ctx.say(`undo: cutover unretire ${args.migration}`)
}

function printRetired(ctx: CommandContext, result: RetireResult): void {
  if (!result.changed) {
    ctx.say(
      `${result.migration}: already retired (legacy table is ${result.retiredTable}${result.alias ? `, alias view ${result.alias.view}` : ''}); nothing changed`,
    )
  } else {
    ctx.say(
      `${result.migration}: retired${result.forced ? ` (FORCED: ${result.overriddenBecause ?? ''})` : ''}: ${result.legacyTable} renamed to ${result.retiredTable}`,
    )
    for (const fk of result.foreignKeys)
      ctx.say(
        `  foreign key ${fk.foreignKey}: ${fk.action === 'moved' ? `now references ${fk.references}` : 'dropped (an equivalent one to the shadow exists)'}`,
      )
    if (result.alias) {
      ctx.say(
        `  alias view ${result.alias.view}: reads the shadow through the backward mapping${result.alias.grants.length ? `; granted ${result.alias.grants.join(', ')}` : ''}`,
      )
      ctx.say(
        `    writable columns: ${result.alias.isUpdatable && result.alias.updatableColumns.length ? result.alias.updatableColumns.join(', ') : 'none'}; read-only: ${result.alias.readOnlyColumns.join(', ') || 'none'}`,
      )
    }
  }
  ctx.say(
    `to drop the old table of ${result.migration} for good (no undo after this), a person runs: ${result.dropSql}`,
  )
}

export async function unretireHandler(ctx: CommandContext, args: GlobalArgs & UnretireArgs): Promise<void> {
  const target = await readTarget(ctx.pool, ctx.schema, args.migration)
  const results = await explainRefusal(ctx, args.migration, () =>
    unretireTarget(
      ctx.pool,
      {
        schema: ctx.schema,
        migration: args.migration,
        actor: ctx.actor,
        reason: ctx.reason,
        lockTimeoutMs: args['lock-timeout-ms'],
      },
      target,
    ),
  )
  ctx.emit(targetDocument(target, results))
  for (const result of results) printUnretired(ctx, result)
}

function printUnretired(ctx: CommandContext, result: UnretireResult): void {
  if (!result.changed) {
    ctx.say(`${result.migration}: not retired; nothing changed`)
    return
  }
  ctx.say(
    `${result.migration}: unretired: ${result.legacyTable} is the legacy table again${result.aliasDropped ? ' (alias view dropped)' : ''}`,
  )
  for (const fk of result.foreignKeys) ctx.say(`  foreign key ${fk.foreignKey}: references ${fk.references} again`)
}
