/** Whether the database can take more of a job's writes now: replica lag and the application's read p99 against bounds, answered with a reason. */
import { ConfigInvalid } from '../../core/errors.js'
import type { PoolLike } from '../../db/queryable.js'
import { withClient } from '../../db/with-client.js'
import type { AppLatencyOptions, AppLatencySource } from './app-latency-source.js'
import { READ_P99_QUERY } from '../job-defaults.js'
import { readReplicaLags } from './replica-lag.js'

/** What the database throttle watches (each bound is optional; none set: it never waits). */
export interface DatabaseThrottleOptions {
  /** Wait while any streaming replica of the job's server replays more than this many seconds behind. */
  readonly maxReplicaLagSeconds?: number
  /** Wait while the application's read p99 (from `appLatency`) is above this many milliseconds. */
  readonly maxAppP99Ms?: number
  /** Where that p99 comes from (required with `maxAppP99Ms`). */
  readonly appLatency?: AppLatencyOptions
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

function isHttpUrl(text: string | undefined): boolean {
  try {
    return /^https?:$/.test(new URL(text ?? '').protocol)
  } catch {
    return false
  }
}

/** A command the CLI accepts; a URL holding credentials is not echoed back. */
function suggestion(migration: string, source: AppLatencyOptions | undefined): string {
  const given = source && 'prometheusUrl' in source ? source : undefined
  const url =
    given && isHttpUrl(given.prometheusUrl) && !new URL(given.prometheusUrl).password
      ? given.prometheusUrl
      : 'http://127.0.0.1:9090'
  const query = given?.query?.trim() ? given.query : READ_P99_QUERY
  return `cutover backfill ${migration} --max-app-p99-ms 250 --prometheus-url ${url} --p99-query '${query}'`
}

/** Refuses a bound that is not a positive number, before the job is opened (the CLI's flags and the library's options alike). */
export function checkDatabaseThrottle(migration: string, options: DatabaseThrottleOptions): void {
  const lag = options.maxReplicaLagSeconds
  if (lag !== undefined && !(Number.isFinite(lag) && lag > 0)) {
    throw new ConfigInvalid(
      migration,
      `--max-replica-lag (maxReplicaLagSeconds) must be a positive number of seconds, got ${String(lag)}; for example: cutover backfill ${migration} --max-replica-lag 5`,
    )
  }
  const p99 = options.maxAppP99Ms
  if (p99 !== undefined && !(Number.isFinite(p99) && p99 > 0)) {
    throw new ConfigInvalid(
      migration,
      `--max-app-p99-ms (maxAppP99Ms) must be a positive number of milliseconds, got ${String(p99)}; for example: ${suggestion(migration, options.appLatency)}`,
    )
  }
  const source = options.appLatency
  if (p99 !== undefined && source === undefined) {
    throw new ConfigInvalid(
      migration,
      `--max-app-p99-ms needs where to read the p99 from: add --prometheus-url URL --p99-query 'PROMQL' (library: appLatency: { registry } or { prometheusUrl, query }), or run without it: cutover backfill ${migration}`,
    )
  }
  if (source !== undefined && p99 === undefined) {
    throw new ConfigInvalid(
      migration,
      `--prometheus-url and --p99-query (appLatency) need --max-app-p99-ms, the bound to hold at; for example: ${suggestion(migration, source)}`,
    )
  }
  if (source && 'prometheusUrl' in source) {
    if (!isHttpUrl(source.prometheusUrl))
      throw new ConfigInvalid(
        migration,
        `--prometheus-url (appLatency.prometheusUrl) must be an http(s) URL such as http://prometheus:9090; for example: ${suggestion(migration, { ...source, prometheusUrl: 'http://127.0.0.1:9090' })}`,
      )
    if (!source.query?.trim())
      throw new ConfigInvalid(
        migration,
        `--p99-query (appLatency.query) is missing: a PromQL expression giving the read p99 in seconds; for example: ${suggestion(migration, { ...source, query: READ_P99_QUERY })}`,
      )
  }
  const every = options.checkIntervalMs
  if (every !== undefined && !(Number.isFinite(every) && every > 0)) {
    throw new ConfigInvalid(
      migration,
      `throttleCheckMs must be a positive number of milliseconds, got ${String(every)}`,
    )
  }
}

/** The check for `options`, or undefined when no bound is set. One answer is shared by all the process's workers for `intervalMs`. */
export function databaseThrottle(
  pool: PoolLike,
  options: DatabaseThrottleOptions,
  appLatency?: AppLatencySource,
  now: () => number = Date.now,
): DatabaseThrottleCheck | undefined {
  const maxLag = options.maxReplicaLagSeconds
  const maxP99Ms = options.maxAppP99Ms
  if (maxLag === undefined && (maxP99Ms === undefined || !appLatency)) return undefined
  const intervalMs = options.checkIntervalMs ?? DEFAULT_THROTTLE_CHECK_MS
  let cached: { at: number; answer: Promise<ThrottleReason> } | undefined
  const lagReason = async (bound: number): Promise<ThrottleReason> => {
    const lags = await withClient(pool, (client) => readReplicaLags(client))
    const worst = lags[0]
    if (!worst || worst.seconds <= bound) return null
    // Rounded up to a tenth, so the figure shown is always above the bound it crossed.
    return `replica lag ${(Math.ceil(worst.seconds * 10) / 10).toFixed(1)} s > ${bound} s on ${worst.replica}`
  }
  const p99Reason = async (source: AppLatencySource, boundMs: number): Promise<ThrottleReason> => {
    let seconds: number | null
    try {
      seconds = await source.p99Seconds()
    } catch (error) {
      // Blind is not clear: a source that stops answering holds the job (it was proven to answer at the start).
      return `application p99 unknown (${source.name}): ${(error as Error).message}`
    }
    if (seconds === null || seconds * 1000 <= boundMs) return null
    // Rounded up to a whole millisecond, so the figure shown is always above the bound it crossed.
    return `application p99 ${Math.ceil(seconds * 1000)} ms > ${boundMs} ms (${source.name})`
  }
  const ask = async (): Promise<ThrottleReason> =>
    (maxLag === undefined ? null : await lagReason(maxLag)) ??
    (maxP99Ms === undefined || !appLatency ? null : await p99Reason(appLatency, maxP99Ms))
  return {
    intervalMs,
    check() {
      const at = now()
      if (!cached || at - cached.at >= intervalMs) {
        const answer = ask()
        // A failed look is not cached: the next worker asks again.
        answer.catch(() => {
          cached = undefined
        })
        cached = { at, answer }
      }
      return cached.answer
    },
  }
}
