/** `cutover repair`: re-copies the recorded divergent keys, lists what it did (or would do). */
import { runRepair } from '../../jobs/repair.js'
import { readState } from '../../store/state/state-store.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { RepairArgs } from '../commands/jobs.js'

export async function repairHandler(ctx: CommandContext, args: GlobalArgs & RepairArgs): Promise<void> {
  await readState(ctx.pool, ctx.schema, args.migration)
  const result = await runRepair(ctx.pool, { schema: ctx.schema, migration: args.migration, actor: ctx.actor, from: args.from, dryRun: args['dry-run'] })
  ctx.emit({ migration: result.migration, rows: result.rows, seconds: result.seconds, dryRun: args['dry-run'], actions: result.actions })
  for (const a of result.actions) ctx.say(`  ${args['dry-run'] ? 'would ' : ''}${a.action} ${JSON.stringify(a.key)}`)
  ctx.say(`${args.migration}: ${args['dry-run'] ? 'would repair' : 'repaired'} ${result.rows} key(s) in ${result.seconds.toFixed(1)} s`)
}
