/**
 * The one retry on lock waits: runs a piece of work in a transaction under a lock timeout and, when it meets a
 * lock (pg-errors.ts isLockWait), rolls back and runs it again after a backoff with jitter.
 */
import type pg from 'pg'
import { setLockTimeout } from './set-lock-timeout.js'
import { isLockWait } from './pg-errors.js'
import { inTransaction } from './with-transaction.js'

export const LOCK_RETRY_BASE_MS = 50
export const LOCK_RETRY_CAP_MS = 5_000
/**
 * Retries up to this one are routine, an application write holding a row for
 * a moment, and are logged at debug; from the next one on (some 150 ms of
 * backoff later) the job warns, saying what it waits on.
 */
export const QUIET_LOCK_RETRIES = 2

/**
 * The wait before retry number `attempt` (1-based): `base * 2^(attempt-1)`,
 * capped, then "equal jitter" (half fixed, half random) so that workers
 * blocked by the same lock do not all come back at the same moment.
 */
export function lockRetryDelayMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(LOCK_RETRY_CAP_MS, LOCK_RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random())
}

/** The time, waits and randomness a retry uses (the jobs' clock port satisfies it). */
export interface RetryClock {
  /** Milliseconds since an arbitrary origin; only differences are meaningful. */
  now(): number
  /** Resolves after `ms`, or at once when `signal` is (or becomes) aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /** A uniform number in [0, 1), for jitter. */
  random(): number
}

/** One lock wait about to be waited out. */
export interface LockWait {
  /** 1 for the first retry. */
  readonly attempt: number
  readonly delayMs: number
  /** The server's error (a lock, statement timeout, deadlock or serialization failure). */
  readonly error: unknown
  /** Up to QUIET_LOCK_RETRIES: routine, worth a debug line rather than a warning. */
  readonly isQuiet: boolean
}

export interface LockRetryOptions {
  readonly clock: RetryClock
  /** Retries after the first try; a lock wait after the last one is thrown (or what `giveUp` makes of it). */
  readonly maxRetries: number
  /** The transaction's first round trip, which may carry its settings (`BEGIN; SET LOCAL …`); default `BEGIN`. */
  readonly begin?: string
  /** Set at the start of each try's transaction (setLockTimeout); left out when `begin` sets it. */
  readonly lockTimeoutMs?: number
  /** Stops the retries: a lock wait met or waited on after it is aborted throws LockRetryStopped. */
  readonly signal?: AbortSignal | undefined
  /** Told of each wait before it starts (to log and count it). */
  onLockWait(wait: LockWait): void
  /** Runs after each wait, before the next try, outside any transaction. */
  afterWait?(): Promise<void>
  /** An error, other than a lock wait, after which the work runs again at once, not counted as a retry. */
  isRetriedAtOnce?(error: unknown): boolean
  /** What to throw once the retries are used up; by default the lock wait's own error. */
  giveUp?(error: unknown, attempt: number): unknown
}

/** The retries were stopped by the signal; `cause` is the lock wait met last. */
export class LockRetryStopped extends Error {
  constructor(cause: unknown) {
    super('stopped while retrying a lock wait', { cause })
  }
}

/**
 * Runs `work` in one transaction under the lock timeout, rolling back on any error; a lock wait is retried
 * after lockRetryDelayMs, up to `maxRetries` times. `work` is told when its try began (before its BEGIN).
 */
export async function withLockRetry<T>(
  client: pg.ClientBase,
  options: LockRetryOptions,
  work: (triedAt: number) => Promise<T>,
): Promise<T> {
  const { clock, signal } = options
  for (let attempt = 1; ; attempt++) {
    const triedAt = clock.now()
    try {
      return await inTransaction(
        client,
        async () => {
          if (options.lockTimeoutMs !== undefined) await setLockTimeout(client, options.lockTimeoutMs)
          return work(triedAt)
        },
        options.begin,
      )
    } catch (error) {
      if (options.isRetriedAtOnce?.(error)) {
        attempt--
        continue
      }
      if (!isLockWait(error)) throw error
      if (attempt > options.maxRetries) throw options.giveUp ? options.giveUp(error, attempt) : error
      if (signal?.aborted) throw new LockRetryStopped(error)
      const delayMs = lockRetryDelayMs(attempt, () => clock.random())
      options.onLockWait({ attempt, delayMs, error, isQuiet: attempt <= QUIET_LOCK_RETRIES })
      await clock.sleep(delayMs, signal)
      if (signal?.aborted) throw new LockRetryStopped(error)
      await options.afterWait?.()
    }
  }
}
