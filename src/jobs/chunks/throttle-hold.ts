/** Holds this process's workers before their next chunk while the database throttle gives a reason. */
import type pg from 'pg'
import type { ThrottleReason } from '../throttles/database-throttle.js'
import type { ChunkRunnerOptions } from './chunk-runner-options.js'

/** While a throttle holds, how often its changing reason is logged again. */
const THROTTLE_LOG_EVERY_MS = 10_000

/** One per runChunks: the reason the workers hold is shared by all of them. */
export class ThrottleHold {
  /** The reason this process's workers hold their next chunk; null while they go on. */
  #throttledFor: ThrottleReason = null
  #throttleLoggedAt = 0

  constructor(
    private readonly options: ChunkRunnerOptions,
    private readonly stop: AbortSignal,
  ) {}

  async #throttleChanged(client: pg.PoolClient, reason: ThrottleReason, was: ThrottleReason): Promise<void> {
    const { options } = this
    const { clock, logger } = options
    const fields = { migration: options.migration, job: options.kind, jobId: options.jobId }
    // A hold and its end are logged; while held, the reason's figure changes at every look: logged every 10 s,
    // shown at once to onThrottle (the terminal) and in the job record (status). The record is written first,
    // so whoever hears of a hold finds it in `cutover status` already.
    await client.query(options.sql.setThrottled, [options.jobId, reason])
    const isNew = reason === null || was === null
    if (isNew || clock.now() - this.#throttleLoggedAt >= THROTTLE_LOG_EVERY_MS) {
      this.#throttleLoggedAt = clock.now()
      if (reason !== null)
        logger.warn({ ...fields, throttled: reason }, `${options.kind} of ${options.migration} throttled: ${reason}`)
      else
        logger.info(
          { ...fields, resumed: was },
          `${options.kind} of ${options.migration} goes on: ${was ?? 'the throttle'} no longer holds`,
        )
    }
    options.onThrottle?.(reason)
  }

  /** Returns when the throttle gives no reason (at once without one) or the run stops. */
  async holdWhileThrottled(client: pg.PoolClient): Promise<void> {
    const check = this.options.databaseThrottle
    if (!check) return
    while (!this.stop.aborted) {
      const reason = await check.check()
      if (reason !== this.#throttledFor) {
        const was = this.#throttledFor
        this.#throttledFor = reason
        await this.#throttleChanged(client, reason, was)
      }
      if (reason === null) return
      await this.options.clock.sleep(check.intervalMs, this.stop)
    }
  }
}
