/** Caps a job's rows per second across all of one process's workers, answering with a wait and its reason. */
import type { JobClock } from '../harness/job-clock.js'

/** Whether to wait before the next chunk, and why, in words an operator reads in the log. */
export interface ThrottleDecision {
  readonly waitMs: number
  readonly reason: string
}

/**
 * A reservation throttle: each finished chunk books `rows / maxRowsPerSecond`
 * seconds on a timeline shared by the process's workers, and its worker waits
 * until the booking ends, so the rate never exceeds the limit. Without a limit
 * it never waits.
 */
export class RowRateThrottle {
  #nextFreeMs = 0

  constructor(
    private readonly clock: JobClock,
    private readonly maxRowsPerSecond: number | undefined,
  ) {}

  /** Books `rows` and says how long to wait before going on. */
  reserve(rows: number): ThrottleDecision {
    const max = this.maxRowsPerSecond
    if (max === undefined || max <= 0 || rows <= 0) return { waitMs: 0, reason: 'no row rate limit' }
    const now = this.clock.now()
    const start = Math.max(now, this.#nextFreeMs)
    this.#nextFreeMs = start + (rows * 1000) / max
    return { waitMs: Math.round(this.#nextFreeMs - now), reason: `max ${max} rows/s` }
  }
}
