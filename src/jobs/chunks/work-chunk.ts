/** One leased chunk, start to end: its work and completion in one transaction, lock waits retried, the lease given back on failure. */
import type pg from 'pg'
import { LockRetryStopped, withLockRetry } from '../../db/with-lock-retry.js'
import { serverMessage } from '../../db/pg-errors.js'
import { withClient } from '../../db/with-client.js'
import { JobFailed } from '../harness/job-failed.js'
import type { RowRateThrottle } from '../throttles/row-rate-throttle.js'
import { ChunkConflict } from './chunk-conflict.js'
import { completeAndTally, extendLease, releaseLease, type LeasedChunk, type LeaseHolder } from './chunk-lease.js'
import type { ChunkRunnerOptions } from './chunk-runner-options.js'
import { nextChunkRows } from './chunk-sizing.js'
import { describeRange } from './key-range.js'

/** What the workers of one runChunks share. */
export interface ChunkRun {
  readonly options: ChunkRunnerOptions
  /** Aborted when the run stops (the caller's signal or a worker's failure). */
  readonly stop: AbortSignal
  readonly throttle: RowRateThrottle
  /** The chunk transaction's first round trip (chunk-begin.ts). */
  readonly begin: string
  /** The size of the next chunk cut, adapted after each chunk. */
  chunkRows: number
}

/** The chunk was taken over by another worker: roll back so it is not counted twice. */
class LeaseLost extends Error {}

/** Extending the lease after a lock wait failed: that error leaves the chunk as it is, unwrapped. */
class LeaseNotExtended extends Error {}

/** Works one chunk; returns when it committed, was taken over, or the run stopped while it waited on a lock. */
export async function workChunk(
  run: ChunkRun,
  client: pg.PoolClient,
  holder: LeaseHolder,
  chunk: LeasedChunk,
): Promise<void> {
  const { options } = run
  const { clock, logger } = options
  const fields = { migration: options.migration, job: options.kind, jobId: options.jobId }
  let isAfterConflict = false
  try {
    // Four round trips and one commit: BEGIN with the lock timeout, the work, the completion with the tallies, COMMIT.
    const done = await withLockRetry(
      client,
      {
        clock,
        maxRetries: options.maxLockRetries,
        begin: run.begin,
        signal: run.stop,
        // Rolled back; the work runs again at once, told so (the backfill then keeps the rows dual writes put there).
        isRetriedAtOnce: (error) => {
          if (!(error instanceof ChunkConflict) || isAfterConflict) return false
          isAfterConflict = true
          return true
        },
        onLockWait: ({ attempt, delayMs, error, isQuiet }) => {
          options.onLockRetry()
          const log = isQuiet ? logger.debug : logger.warn
          log.call(
            logger,
            {
              ...fields,
              chunk: chunk.chunkNo,
              keys: describeRange(chunk.range),
              attempt,
              delayMs,
              waitsOn: options.waitsOn,
              server: serverMessage(error),
            },
            `${options.kind} chunk ${chunk.chunkNo} of ${options.migration} (keys ${describeRange(chunk.range)}) waits on ${options.waitsOn}: ` +
              `${serverMessage(error)}; retry ${attempt} of ${options.maxLockRetries} in ${delayMs} ms`,
          )
        },
        afterWait: () =>
          extendLease(client, holder, chunk).catch((error: unknown) => {
            throw new LeaseNotExtended('the lease could not be extended', { cause: error })
          }),
      },
      async (started) => {
        const outcome = await options.work(client, chunk.range, {
          isAfterConflict,
          expectedRows: chunk.cutRows ?? run.chunkRows,
          begin: run.begin,
          keepLease: () => extendLease(client, holder, chunk),
        })
        const chunkMs = clock.now() - started
        const next =
          options.targetChunkMs > 0
            ? nextChunkRows(run.chunkRows, outcome.rows, chunkMs, options.targetChunkMs, options.maxChunkRows)
            : null
        const job = await completeAndTally(client, holder, chunk, outcome, next)
        if (job === null) throw new LeaseLost()
        return { outcome, chunkMs, next, ...job }
      },
    )
    if (done.next !== null) run.chunkRows = done.next
    options.onChunkDone({
      jobId: options.jobId,
      chunkNo: chunk.chunkNo,
      range: chunk.range,
      outcome: done.outcome,
      rowsDone: done.rowsDone,
      totalEstimate: done.totalEstimate,
      chunkMs: done.chunkMs,
      chunkRows: run.chunkRows,
    })
    const wait = run.throttle.reserve(done.outcome.rows)
    if (wait.waitMs > 0) {
      logger.debug(
        { ...fields, waitMs: wait.waitMs, reason: wait.reason },
        `${options.kind} of ${options.migration} throttled for ${wait.waitMs} ms (${wait.reason})`,
      )
      await clock.sleep(wait.waitMs, run.stop)
    }
  } catch (error) {
    if (error instanceof LeaseLost) {
      logger.warn(
        { ...fields, chunk: chunk.chunkNo },
        `${options.kind} chunk ${chunk.chunkNo} of ${options.migration} was taken over by another worker after its lease expired; its work here was rolled back`,
      )
      return
    }
    if (error instanceof LeaseNotExtended) throw error.cause
    // When the worker's own connection broke (terminated, server restarted),
    // the chunk is given back over a fresh one, so the next run need not wait out its lease.
    await releaseLease(client, holder, chunk)
      .catch(() => withClient(options.pool, (fresh) => releaseLease(fresh, holder, chunk)))
      .catch(() => undefined)
    if (error instanceof LockRetryStopped) return // stopped while waiting: the chunk is left for the next run
    throw JobFailed.inChunk(
      options.migration,
      options.kind,
      options.jobId,
      `${chunk.chunkNo} (keys ${describeRange(chunk.range)})`,
      error,
    )
  }
}
