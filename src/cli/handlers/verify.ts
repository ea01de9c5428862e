/** `cutover verify`: compares both tables (each member of a group), lists the differing keys, exit 1 if any. */
import { runVerifies } from '../../jobs/groups/group-jobs.js'
import { CheckFailed } from '../../core/errors.js'
import { readKnownTarget } from '../../store/groups/group-target.js'
import { targetDocument } from '../../core/target.js'
import { withMetrics } from '../metrics-option.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { VerifyArgs } from '../commands/jobs.js'

export async function verifyHandler(ctx: CommandContext, args: GlobalArgs & VerifyArgs): Promise<void> {
  const target = await readKnownTarget(ctx.pool, ctx.schema, args.migration)
  const results = await withMetrics(args['metrics-port'], (registry) =>
    runVerifies(ctx.pool, {
      schema: ctx.schema,
      migration: args.migration,
      actor: ctx.actor,
      limit: args.limit,
      workers: args.workers,
      parallel: args.parallel,
      registry,
    }),
  )
  const documents = results.map((result) => ({
    migration: result.migration,
    rowsCompared: result.rowsCompared,
    clean: result.clean,
    counts: result.counts,
    differences: result.differences,
  }))
  ctx.emit(targetDocument(target, documents))
  for (const result of results) {
    ctx.say(
      `${result.migration}: compared ${result.rowsCompared} rows: ${result.clean ? 'clean' : `${result.counts.mismatch} mismatched, ${result.counts.missing_in_shadow} missing in shadow, ${result.counts.missing_in_legacy} missing in legacy`}`,
    )
    for (const d of result.differences) ctx.say(`  ${d.kind}  ${JSON.stringify(d.key)}`)
  }
  const unclean = results.find((result) => !result.clean)
  if (unclean)
    throw new CheckFailed(
      `${unclean.migration}: verify found differences; fix them with: cutover repair ${unclean.migration}`,
    )
}
