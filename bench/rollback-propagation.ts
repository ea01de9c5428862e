/** Milliseconds from a rollback's commit until each of N follower processes applied it (1, 8 and 32 processes; no baseline). */
import pg from 'pg'
import { readState } from '../src/store/state/state-row.js'
import { rollback } from '../src/actions/rollback.js'
import { FollowerProcess } from './lib/follower-process.js'
import { median } from './lib/alternating.js'
import { percentile } from './lib/latency.js'
import { result, type BenchResult } from './lib/results.js'
import { MIGRATION, SCHEMA, type BenchWorld } from './lib/setup.js'

/** The DESIGN.md names are for 32 processes; other counts get a `_p<n>` suffix. */
function processSuffix(processes: number): string {
  return processes === 32 ? '' : `_p${processes}`
}

/** Connections one follower holds: its pool (max 2) and its LISTEN connection. */
const CONNECTIONS_PER_FOLLOWER = 3
const START_TIMEOUT_MS = 120_000
const APPLY_TIMEOUT_MS = 10_000
/** Unrecorded rollbacks after new followers start: their first changes run cold code (about 2× slower here). */
const WARMUP_ROLLBACKS = 2

export interface PropagationSettings {
  /** Follower counts, measured in ascending order, each adding to the followers already running. */
  readonly processes: readonly number[]
  /** Rollbacks per follower count, each after a ramp every follower applied. */
  readonly rollbacks: number
}

/**
 * A pool for `rollback()` whose connections note when a COMMIT is sent. The
 * rollback commits after that moment, so a delay measured from it is an upper
 * bound on the true one (by the COMMIT's own round trip at most).
 */
export function commitTimedPool(url: string): { pool: pg.Pool; commitSentAtMs(): number } {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  pool.on('error', () => undefined)
  let sentAtMs = Number.NaN
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    client.query = ((...args: unknown[]) => {
      if (args[0] === 'COMMIT') sentAtMs = Date.now()
      return query(...args)
    }) as typeof client.query
  })
  return { pool, commitSentAtMs: () => sentAtMs }
}

export async function freeConnections(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{
    free: number
  }>(`SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
    - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS free`)
  return rows[0]?.free ?? 0
}

async function version(world: BenchWorld): Promise<number> {
  return (await readState(world.pool, SCHEMA, MIGRATION)).version
}

/** Every follower's apply time of `v`. */
function appliedAll(followers: readonly FollowerProcess[], v: number): Promise<number[]> {
  return Promise.all(followers.map((f) => f.appliedAt(v, APPLY_TIMEOUT_MS)))
}

/**
 * Alternates a ramp to 50 % (which every follower applies first) and a rollback, `rollbacks`
 * times after two unrecorded ones; each follower's delay from the rollback's COMMIT being sent.
 */
export async function rollbackDelays(
  world: BenchWorld,
  followers: readonly FollowerProcess[],
  timed: { pool: pg.Pool; commitSentAtMs(): number },
  rollbacks: number,
): Promise<{ delays: number[]; callToCommitMs: number[] }> {
  const delays: number[] = []
  const callToCommitMs: number[] = []
  for (let k = 0; k < WARMUP_ROLLBACKS + rollbacks; k++) {
    await world.setPhase('ramp', 50)
    await appliedAll(followers, await version(world))
    // Lets the followers' acknowledgements finish, so each rollback finds them idle.
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 50))
    const calledAtMs = Date.now()
    const done = await rollback(timed.pool, {
      schema: SCHEMA,
      migration: MIGRATION,
      actor: 'bench',
      reason: 'rollback_propagation benchmark',
      ackTimeoutMs: APPLY_TIMEOUT_MS,
    })
    const committedAtMs = timed.commitSentAtMs()
    callToCommitMs.push(committedAtMs - calledAtMs)
    if (done.to.phase !== 'dual_write' || !done.changed)
      throw new Error(`rollback went from ${done.from.phase} to ${done.to.phase}; expected ramp to dual_write`)
    const these = (await appliedAll(followers, await version(world))).map((atMs) => atMs - committedAtMs)
    if (k >= WARMUP_ROLLBACKS) delays.push(...these)
  }
  return { delays, callToCommitMs }
}

/**
 * Alternates a ramp to 50 % (which every follower applies first) and a
 * rollback through `rollback()`, `settings.rollbacks` times per follower
 * count after two unrecorded ones; each follower's delay is its Date.now() when it applied the
 * rollback minus the parent's Date.now() when the rollback's COMMIT was sent.
 * `onFollowers` receives the stop of every follower, for cleanup on a signal.
 */
export async function measureRollbackPropagation(
  world: BenchWorld,
  url: string,
  settings: PropagationSettings,
  log: (line: string) => void,
  onFollowers: (stop: () => Promise<void>) => void,
): Promise<BenchResult[]> {
  const followers: FollowerProcess[] = []
  const stopAll = async (): Promise<void> => {
    await Promise.all(followers.map((f) => f.stop()))
  }
  onFollowers(stopAll)
  const timed = commitTimedPool(url)
  const results: BenchResult[] = []
  try {
    for (const n of [...settings.processes].sort((a, b) => a - b)) {
      const needed = (n - followers.length) * CONNECTIONS_PER_FOLLOWER
      const free = await freeConnections(world.pool)
      if (needed > free - 4) {
        log(
          `rollback_propagation, ${n} processes: skipped, needs ${needed} more connections and the server has ${free} free (raise max_connections)`,
        )
        continue
      }
      const started = Date.now()
      const spawned = await Promise.all(
        Array.from({ length: n - followers.length }, () =>
          FollowerProcess.start(url, SCHEMA, MIGRATION, START_TIMEOUT_MS),
        ),
      )
      followers.push(...spawned)
      log(
        `rollback_propagation, ${n} processes: ${spawned.length} started in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      )
      const { delays, callToCommitMs } = await rollbackDelays(world, followers, timed, settings.rollbacks)
      const sorted = Float64Array.from(delays).sort()
      const suffix = processSuffix(n)
      const stats = {
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        max: sorted[sorted.length - 1] ?? Number.NaN,
      }
      log(
        `rollback_propagation, ${n} processes: p50 ${stats.p50} ms, p99 ${stats.p99} ms, max ${stats.max} ms over ${settings.rollbacks} rollbacks ` +
          `(call to COMMIT sent: median ${median(callToCommitMs)} ms) (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      )
      results.push(
        result(`rollback_propagation_p50_ms${suffix}`, stats.p50, 'ms'),
        result(`rollback_propagation_p99_ms${suffix}`, stats.p99, 'ms'),
        result(`rollback_propagation_max_ms${suffix}`, stats.max, 'ms'),
      )
    }
  } finally {
    await stopAll()
    await timed.pool.end().catch(() => undefined)
  }
  return results
}
