/** `cutover backfill`: runs the backfill (each member of a group, parents first), with a progress bar on a terminal and plain lines otherwise. */
import { backfillOrder, runBackfills } from '../../jobs/groups/group-jobs.js'
import { readKnownTarget } from '../../store/groups/group-target.js'
import { targetDocument } from '../../core/target.js'
import type { PrometheusAppLatency } from '../../jobs/throttles/app-latency-source.js'
import { progressReporter } from '../progress.js'
import { withMetrics } from '../metrics-option.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { BackfillArgs } from '../commands/jobs.js'

/** The flags as the library's option; either flag alone is passed on, for the library to refuse in its words. */
function prometheusOption(
  prometheusUrl: string | undefined,
  query: string | undefined,
): PrometheusAppLatency | undefined {
  return prometheusUrl === undefined && query === undefined
    ? undefined
    : { prometheusUrl: prometheusUrl ?? '', query: query ?? '' }
}

export async function backfillHandler(ctx: CommandContext, args: GlobalArgs & BackfillArgs): Promise<void> {
  const target = await readKnownTarget(ctx.pool, ctx.schema, args.migration)
  if (target.group !== undefined)
    ctx.say(
      `group ${target.group}: backfilling its members parents first: ${(await backfillOrder(ctx.pool, ctx.schema, target.group)).join(', ')}`,
    )
  const progress = progressReporter(ctx, `backfill ${args.migration}`)
  try {
    const results = await withMetrics(args['metrics-port'], (registry) =>
      runBackfills(ctx.pool, {
        registry,
        schema: ctx.schema,
        migration: args.migration,
        actor: ctx.actor,
        workers: args.workers,
        parallel: args.parallel,
        maxRowsPerSecond: args['max-rows-per-second'],
        maxReplicaLagSeconds: args['max-replica-lag'],
        maxAppP99Ms: args['max-app-p99-ms'],
        appLatency: prometheusOption(args['prometheus-url'], args['p99-query']),
        onThrottle: progress.throttled,
        chunkRows: args['chunk-rows'],
        leaseMs: args['lease-seconds'] * 1000,
        onProgress: progress.update,
      }),
    )
    progress.stop()
    const rows = results.map((result) => ({
      migration: result.migration,
      rows: result.rows,
      copied: result.copied,
      seconds: result.seconds,
      resumed: result.isResumed,
    }))
    ctx.emit(targetDocument(target, rows))
    for (const result of results)
      ctx.say(
        `${result.migration}: backfill went over ${result.rows} legacy rows and copied ${result.copied} (the rest were already in the shadow) in ${result.seconds.toFixed(1)} s`,
      )
  } finally {
    progress.stop()
  }
}
