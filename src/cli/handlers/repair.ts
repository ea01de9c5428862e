/** `cutover repair`: re-copies the recorded divergent keys of a migration or of a group's members, lists what it did (or would do). */
import { runRepairs } from '../../jobs/groups/group-jobs.js'
import { readKnownTarget } from '../../store/groups/group-target.js'
import { targetDocument } from '../../core/target.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { RepairArgs } from '../commands/jobs.js'

export async function repairHandler(ctx: CommandContext, args: GlobalArgs & RepairArgs): Promise<void> {
  const target = await readKnownTarget(ctx.pool, ctx.schema, args.migration)
  const results = await runRepairs(ctx.pool, {
    schema: ctx.schema,
    migration: args.migration,
    actor: ctx.actor,
    from: args.from,
    dryRun: args['dry-run'],
  })
  const documents = results.map((result) => ({
    migration: result.migration,
    rows: result.rows,
    seconds: result.seconds,
    dryRun: args['dry-run'],
    actions: result.actions,
  }))
  ctx.emit(targetDocument(target, documents))
  for (const result of results) {
    for (const a of result.actions) ctx.say(`  ${args['dry-run'] ? 'would ' : ''}${a.action} ${JSON.stringify(a.key)}`)
    ctx.say(
      `${result.migration}: ${args['dry-run'] ? 'would repair' : 'repaired'} ${result.rows} key(s) in ${result.seconds.toFixed(1)} s`,
    )
  }
}
