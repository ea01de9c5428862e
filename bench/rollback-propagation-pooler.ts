/**
 * Milliseconds from a rollback's commit (on the direct URL) until each of 32
 * processes whose pools go through a PgBouncer in pool_mode=transaction
 * applied it: `listen` with a direct listenUrl, `poll` without one (LISTEN
 * through the pooler is never made; they poll every 500 ms). No baseline.
 */
import { FollowerProcess } from './lib/follower-process.js'
import { median } from './lib/alternating.js'
import { percentile } from './lib/latency.js'
import { result, type BenchResult } from './lib/results.js'
import { MIGRATION, SCHEMA, type BenchWorld } from './lib/setup.js'
import { commitTimedPool, freeConnections, rollbackDelays } from './rollback-propagation.js'
import { startPooler } from '../test/support/pooler.js'

const START_TIMEOUT_MS = 300_000

export interface PoolerPropagationSettings {
  readonly processes: number
  readonly rollbacks: number
}

/** Both listening modes behind one PgBouncer started in front of `serverUrl`; nothing (a log line) when pgbouncer is not installed. */
export async function measurePoolerRollbackPropagation(
  world: BenchWorld,
  serverUrl: string,
  databaseUrl: string,
  settings: PoolerPropagationSettings,
  log: (line: string) => void,
  onFollowers: (stop: () => Promise<void>) => void,
): Promise<BenchResult[]> {
  const pooler = await startPooler(serverUrl)
  if (!pooler) {
    log('rollback_propagation_pooler: skipped, no pgbouncer (/usr/sbin/pgbouncer)')
    return []
  }
  const database = new URL(databaseUrl).pathname.slice(1)
  const results: BenchResult[] = []
  const timed = commitTimedPool(databaseUrl)
  try {
    for (const mode of ['listen', 'poll'] as const) {
      // listen: a direct LISTEN connection each (and the pooler's few server connections).
      const needed = mode === 'listen' ? settings.processes + pooler.poolSize : pooler.poolSize
      const free = await freeConnections(world.pool)
      if (needed > free - 4) {
        log(
          `rollback_propagation_pooler_${mode}: skipped, needs ${needed} connections and the server has ${free} free (raise max_connections)`,
        )
        continue
      }
      const started = Date.now()
      const followers: FollowerProcess[] = []
      const stopAll = async (): Promise<void> => {
        await Promise.all(followers.map((f) => f.stop()))
      }
      onFollowers(stopAll)
      try {
        // Eight at a time: 32 processes compiling TypeScript at once starve each other on a small machine.
        while (followers.length < settings.processes) {
          followers.push(
            ...(await Promise.all(
              Array.from({ length: Math.min(8, settings.processes - followers.length) }, () =>
                FollowerProcess.start(
                  pooler.url(database),
                  SCHEMA,
                  MIGRATION,
                  START_TIMEOUT_MS,
                  mode === 'listen' ? databaseUrl : undefined,
                ),
              ),
            )),
          )
        }
        log(
          `rollback_propagation_pooler_${mode}: ${followers.length} processes started in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        )
        const { delays, callToCommitMs } = await rollbackDelays(world, followers, timed, settings.rollbacks)
        const sorted = Float64Array.from(delays).sort()
        const stats = {
          p50: percentile(sorted, 0.5),
          p99: percentile(sorted, 0.99),
          max: sorted[sorted.length - 1] ?? Number.NaN,
        }
        log(
          `rollback_propagation_pooler_${mode}, ${settings.processes} processes through PgBouncer (transaction mode): p50 ${stats.p50} ms, p99 ${stats.p99} ms, ` +
            `max ${stats.max} ms over ${settings.rollbacks} rollbacks (call to COMMIT sent: median ${median(callToCommitMs)} ms) (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        )
        results.push(
          result(`rollback_propagation_pooler_${mode}_p50_ms`, stats.p50, 'ms'),
          result(`rollback_propagation_pooler_${mode}_p99_ms`, stats.p99, 'ms'),
          result(`rollback_propagation_pooler_${mode}_max_ms`, stats.max, 'ms'),
        )
      } finally {
        await stopAll()
      }
    }
  } finally {
    await timed.pool.end().catch(() => undefined)
    await pooler.stop()
  }
  return results
}
