/** How long to wait before retrying a chunk that met a lock (exponential backoff with jitter), and which retries are worth a warning. */

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
