/** Whether the database can take more of a job's writes now: replica lag against a bound, answered with a reason. */
import { ConfigInvalid } from '../core/errors.js'
import type { PoolLike } from '../db/queryable.js'
import { withClient } from '../db/with-client.js'
import { readReplicaLags } from './replica-lag.js'

/** What the database throttle watches (each bound is optional; none set: it never waits). */
export interface DatabaseThrottleOptions {
  /** Wait while any streaming replica of the job's server replays more than this many seconds behind. */
  readonly maxReplicaLagSeconds?: number
  /** How often the throttle looks while it waits, and at most how often between chunks (default 1000 ms). */
  readonly checkIntervalMs?: number
}

/** Why the job waits, in words an operator reads (`replica lag 3.2 s > 1 s on standby1`); null: go on. */
export type ThrottleReason = string | null

/** Asks the database whether to hold the job's next chunk. */
export interface DatabaseThrottleCheck {
  /** How often to ask again while it says to wait. */
  readonly intervalMs: number
  /** The reason to wait, or null. */
  check(): Promise<ThrottleReason>
}

export const DEFAULT_THROTTLE_CHECK_MS = 1000

/** Refuses a bound that is not a positive number, before the job is opened (the CLI's flags and the library's options alike). */
export function checkDatabaseThrottle(migration: string, options: DatabaseThrottleOptions): void {
  const lag = options.maxReplicaLagSeconds
  if (lag !== undefined && !(Number.isFinite(lag) && lag > 0)) {
    throw new ConfigInvalid(migration, `--max-replica-lag (maxReplicaLagSeconds) must be a positive number of seconds, got ${String(lag)}; for example: cutover backfill ${migration} --max-replica-lag 5`)
  }
  const every = options.checkIntervalMs
  if (every !== undefined && !(Number.isFinite(every) && every > 0)) {
    throw new ConfigInvalid(migration, `throttleCheckMs must be a positive number of milliseconds, got ${String(every)}`)
  }
}

/** The check for `options`, or undefined when no bound is set. One answer is shared by all the process's workers for `intervalMs`. */
export function databaseThrottle(pool: PoolLike, options: DatabaseThrottleOptions, now: () => number = Date.now): DatabaseThrottleCheck | undefined {
  const maxLag = options.maxReplicaLagSeconds
  if (maxLag === undefined) return undefined
  const intervalMs = options.checkIntervalMs ?? DEFAULT_THROTTLE_CHECK_MS
  let cached: { at: number; answer: Promise<ThrottleReason> } | undefined
  const ask = async (): Promise<ThrottleReason> => {
    const lags = await withClient(pool, (client) => readReplicaLags(client))
    const worst = lags[0]
    if (!worst || worst.seconds <= maxLag) return null
    // Rounded up to a tenth, so the figure shown is always above the bound it crossed.
    return `replica lag ${(Math.ceil(worst.seconds * 10) / 10).toFixed(1)} s > ${maxLag} s on ${worst.replica}`
  }
  return {
    intervalMs,
    check() {
      const at = now()
      if (!cached || at - cached.at >= intervalMs) {
        const answer = ask()
        // A failed look is not cached: the next worker asks again.
        answer.catch(() => { cached = undefined })
        cached = { at, answer }
      }
      return cached.answer
    },
  }
}
