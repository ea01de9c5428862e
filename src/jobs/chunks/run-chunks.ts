/** The worker loops that run one job's chunks in this process. */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type pg from 'pg'
import { isLockWait, serverMessage } from '../../db/pg-errors.js'
import type { PoolLike } from '../../db/queryable.js'
import { nextChunkRows } from './chunk-sizing.js'
import { claimChunk, completeAndTally, extendLease, openChunks, releaseLease, type LeasedChunk, type LeaseHolder } from './chunk-lease.js'
import { sessionSettingsSetLocal, type SessionSettings } from '../../core/session-settings.js'
import { inTransaction } from '../../db/with-transaction.js'
import type { JobClock } from '../harness/job-clock.js'
import { JobFailed, type JobKind } from '../harness/job-failed.js'
import type { JobLogger } from '../harness/job-logger.js'
import type { JobSql } from '../../store/jobs/job-sql.js'
import { describeRange, type KeyRange } from './key-range.js'
import type { KeyRangeSql } from './key-range-sql.js'
import { lockRetryDelayMs, QUIET_LOCK_RETRIES } from '../../db/lock-retry.js'
import { RowRateThrottle } from '../throttles/row-rate-throttle.js'
import type { DatabaseThrottleCheck, ThrottleReason } from '../throttles/database-throttle.js'
import { withClient } from '../../db/with-client.js'

/** What one chunk's work did. */
export interface ChunkOutcome {
  /** Rows the chunk covered: added to the job's rows_done. */
  readonly rows: number
  /** Rows found differing (verify): added to rows_differing. */
  readonly differing: number
  /** Counters added into the job's details, such as `{ copied: 12 }`. */
  readonly tallies: Readonly<Record<string, number>>
}

/** What a chunk's work is told besides its range. */
export interface ChunkAttempt {
  readonly isAfterConflict: boolean
  /** About how many legacy keys the chunk holds: what its cut asked for, or this worker's chunk size for a chunk taken over. */
  readonly expectedRows: number
  /** The chunk transaction's settings (`BEGIN; SET LOCAL …`), for work it hands to another connection. */
  readonly begin: string
  keepLease(): Promise<void>
}

/** Reported after each chunk commits. */
export interface ChunkProgress {
  readonly jobId: string
  readonly chunkNo: number
  readonly range: KeyRange
  readonly outcome: ChunkOutcome
  /** The job's rows done so far, by every worker and run. */
  readonly rowsDone: number
  readonly totalEstimate: number | null
  readonly chunkMs: number
  /** The size the next chunk will have (after adaptation). */
  readonly chunkRows: number
}

export interface ChunkRunnerOptions {
  readonly pool: PoolLike
  readonly migration: string
  readonly kind: JobKind
  readonly jobId: string
  readonly sql: JobSql
  readonly keys: KeyRangeSql
  readonly workers: number
  readonly chunkRows: number
  readonly leaseMs: number
  readonly lockTimeoutMs: number
  /** The migration's session settings, set in each chunk's transaction (core/session-settings.ts). */
  readonly sessionSettings?: SessionSettings | undefined
  readonly maxLockRetries: number
  /** 0 keeps the chunk size fixed. */
  readonly targetChunkMs: number
  /** The largest chunk the adaptation may reach (default 50,000 rows). */
  readonly maxChunkRows?: number
  readonly maxRowsPerSecond: number | undefined
  /** Asked before each chunk; while it gives a reason, no worker of this process starts a chunk. */
  readonly databaseThrottle: DatabaseThrottleCheck | undefined
  /** Called when the job starts waiting on the database throttle (with its reason) and when it goes on (null). */
  onThrottle?(reason: ThrottleReason): void
  readonly signal: AbortSignal | undefined
  readonly clock: JobClock
  readonly logger: JobLogger
  /** What a lock wait in this job's chunks waits on, for the log line. */
  readonly waitsOn: string
  /**
   * The chunk's statement(s), run inside the chunk's transaction. Throwing {@link ChunkConflict} rolls the
   * transaction back and runs the chunk again at once with `isAfterConflict` (once per chunk). Work that may
   * outlast the lease calls `keepLease` between its statements: it extends the lease and, until the chunk's
   * transaction ends, holds the chunk's row, so no other worker can take the chunk over meanwhile.
   */
  work(client: pg.PoolClient, range: KeyRange, attempt: ChunkAttempt): Promise<ChunkOutcome>
  onLockRetry(): void
  onChunkDone(progress: ChunkProgress): void
}

/** While a throttle holds, how often its changing reason is logged again. */
const THROTTLE_LOG_EVERY_MS = 10_000

/** The chunk was taken over by another worker: roll back so it is not counted twice. */
class LeaseLost extends Error {}

/**
 * Thrown by a chunk's work when its fast statement cannot do this chunk (the backfill's plain insert met a key
 * a dual write had put in the shadow): the chunk's transaction is rolled back and its work runs again at once,
 * with `isAfterConflict`. Cheaper than a savepoint around every chunk's statement, which costs two round trips
 * each time for a case most chunks never meet.
 */
export class ChunkConflict extends Error {
  constructor(cause: unknown) {
    super('the chunk conflicts with rows already in the shadow', { cause })
  }
}

/**
 * Runs N concurrent worker loops: each claims a lease, does the chunk's work
 * and completes it in one short transaction (lock timeouts retried with
 * backoff and jitter), adapts the chunk size, and throttles. Resolves when
 * every chunk of the job is done (or the job stopped); rejects with the first
 * failure or the abort reason.
 */
export async function runChunks(options: ChunkRunnerOptions): Promise<void> {
  const { clock, logger, sql } = options
  const stop = new AbortController()
  let failure: unknown
  const onAbort = (): void => stop.abort(options.signal?.reason)
  if (options.signal?.aborted) onAbort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  const throttle = new RowRateThrottle(clock, options.maxRowsPerSecond)
  const tag = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  // Looking for expired leases scans the job's chunks, so it is done at start,
  // when the range is used up, and otherwise at most twice per lease time.
  const reclaimEveryMs = Math.max(1000, options.leaseMs / 2)
  let nextReclaimAt = 0
  let chunkRows = options.chunkRows
  // Chunks being worked on by this process's workers, and idle workers waiting for one of them to settle.
  let inFlight = 0
  const waiting = new Set<() => void>()
  const settled = (): void => {
    for (const wake of waiting) wake()
    waiting.clear()
  }
  async function waitForOpenChunks(msToExpiry: number | null): Promise<void> {
    const done = new AbortController()
    const sibling = inFlight > 0 ? new Promise<void>((resolve) => waiting.add(resolve)) : new Promise<void>(() => undefined)
    // A sibling here wakes us when its chunk settles; a chunk leased elsewhere may expire and be ours to take over.
    await Promise.race([sibling, clock.sleep(Math.min(250, Math.max(50, (msToExpiry ?? 0) + 10)), AbortSignal.any([stop.signal, done.signal]))])
    done.abort()
  }
  const fields = { migration: options.migration, job: options.kind, jobId: options.jobId }
  // A chunk's transaction opens with its settings in the same round trip (a number, so no parameter is needed).
  // It commits without waiting for its WAL to reach disk (synchronous_commit off, for this transaction only): the
  // chunk's work and its completion are one transaction, so a server crash can lose only both together, never one
  // without the other, and the resumed job does that chunk again. PostgreSQL keeps such a database consistent (WAL
  // is flushed in order: any later durable commit, an application write or the job's finish, makes the chunk
  // durable too). What it saves is the wait for a flush of the chunk's WAL at every chunk.
  const settings = sessionSettingsSetLocal(options.sessionSettings ?? {})
  const beginChunk = `BEGIN; SET LOCAL lock_timeout = '${Math.max(0, Math.round(options.lockTimeoutMs))}ms'; SET LOCAL synchronous_commit = off${settings === '' ? '' : `; ${settings}`}`

  // The reason this process's workers hold their next chunk, shared by all of them; null while they go on.
  let throttledFor: ThrottleReason = null
  let throttleLoggedAt = 0
  async function throttleChanged(client: pg.PoolClient, reason: ThrottleReason, was: ThrottleReason): Promise<void> {
    // A hold and its end are logged; while held, the reason's figure changes at every look: logged every 10 s,
    // shown at once to onThrottle (the terminal) and in the job record (status). The record is written first,
    // so whoever hears of a hold finds it in `cutover status` already.
    await client.query(sql.setThrottled, [options.jobId, reason])
    const isNew = reason === null || was === null
    if (isNew || clock.now() - throttleLoggedAt >= THROTTLE_LOG_EVERY_MS) {
      throttleLoggedAt = clock.now()
      if (reason !== null) logger.warn({ ...fields, throttled: reason }, `${options.kind} of ${options.migration} throttled: ${reason}`)
      else logger.info({ ...fields, resumed: was }, `${options.kind} of ${options.migration} goes on: ${was ?? 'the throttle'} no longer holds`)
    }
    options.onThrottle?.(reason)
  }
  async function holdWhileThrottled(client: pg.PoolClient): Promise<void> {
    const check = options.databaseThrottle
    if (!check) return
    while (!stop.signal.aborted) {
      const reason = await check.check()
      if (reason !== throttledFor) {
        const was = throttledFor
        throttledFor = reason
        await throttleChanged(client, reason, was)
      }
      if (reason === null) return
      await clock.sleep(check.intervalMs, stop.signal)
    }
  }

  async function workChunk(client: pg.PoolClient, holder: LeaseHolder, chunk: LeasedChunk): Promise<void> {
    let isAfterConflict = false
    for (let attempt = 1; ; attempt++) {
      const started = clock.now()
      try {
        // Four round trips and one commit: BEGIN with the lock timeout, the work, the completion with the tallies, COMMIT.
        const done = await inTransaction(client, async () => {
          const outcome = await options.work(client, chunk.range, {
            isAfterConflict, expectedRows: chunk.cutRows ?? chunkRows, begin: beginChunk, keepLease: () => extendLease(client, holder, chunk),
          })
          const chunkMs = clock.now() - started
          const next = options.targetChunkMs > 0 ? nextChunkRows(chunkRows, outcome.rows, chunkMs, options.targetChunkMs, options.maxChunkRows) : null
          const job = await completeAndTally(client, holder, chunk, outcome, next)
          if (job === null) throw new LeaseLost()
          return { outcome, chunkMs, next, ...job }
        }, beginChunk)
        if (done.next !== null) chunkRows = done.next
        options.onChunkDone({
          jobId: options.jobId, chunkNo: chunk.chunkNo, range: chunk.range, outcome: done.outcome, rowsDone: done.rowsDone,
          totalEstimate: done.totalEstimate, chunkMs: done.chunkMs, chunkRows,
        })
        const wait = throttle.reserve(done.outcome.rows)
        if (wait.waitMs > 0) {
          logger.debug({ ...fields, waitMs: wait.waitMs, reason: wait.reason }, `${options.kind} of ${options.migration} throttled for ${wait.waitMs} ms (${wait.reason})`)
          await clock.sleep(wait.waitMs, stop.signal)
        }
        return
      } catch (error) {
        if (error instanceof ChunkConflict && !isAfterConflict) {
          // Rolled back; the work runs again at once, told so (the backfill then keeps the rows dual writes put there).
          isAfterConflict = true
          attempt--
          continue
        }
        if (error instanceof LeaseLost) {
          logger.warn({ ...fields, chunk: chunk.chunkNo }, `${options.kind} chunk ${chunk.chunkNo} of ${options.migration} was taken over by another worker after its lease expired; its work here was rolled back`)
          return
        }
        const isRetryable = isLockWait(error) && attempt <= options.maxLockRetries
        if (isRetryable && !stop.signal.aborted) {
          options.onLockRetry()
          const delayMs = lockRetryDelayMs(attempt, clock.random)
          const log = attempt > QUIET_LOCK_RETRIES ? logger.warn : logger.debug
          log.call(logger,
            { ...fields, chunk: chunk.chunkNo, keys: describeRange(chunk.range), attempt, delayMs, waitsOn: options.waitsOn, server: serverMessage(error) },
            `${options.kind} chunk ${chunk.chunkNo} of ${options.migration} (keys ${describeRange(chunk.range)}) waits on ${options.waitsOn}: ` +
              `${serverMessage(error)}; retry ${attempt} of ${options.maxLockRetries} in ${delayMs} ms`,
          )
          await clock.sleep(delayMs, stop.signal)
          if (!stop.signal.aborted) {
            await extendLease(client, holder, chunk)
            continue
          }
        }
        // When the worker's own connection broke (terminated, server restarted),
        // the chunk is given back over a fresh one, so the next run need not wait out its lease.
        await releaseLease(client, holder, chunk)
          .catch(() => withClient(options.pool, (fresh) => releaseLease(fresh, holder, chunk)))
          .catch(() => undefined)
        if (isRetryable) return // stopped while waiting: the chunk is left for the next run
        throw JobFailed.inChunk(options.migration, options.kind, options.jobId, `${chunk.chunkNo} (keys ${describeRange(chunk.range)})`, error)
      }
    }
  }

  async function worker(index: number): Promise<void> {
    const holder: LeaseHolder = { jobId: options.jobId, worker: `${tag}/${index}`, leaseMs: options.leaseMs, sql, keys: options.keys }
    await withClient(options.pool, async (client) => {
      while (!stop.signal.aborted) {
        await holdWhileThrottled(client)
        if (stop.signal.aborted) break
        const tryExpired = clock.now() >= nextReclaimAt
        const claim = await claimChunk(client, holder, { tryExpired })
        if (claim.kind === 'chunk') {
          if (claim.chunk.attempts > 1) {
            logger.warn({ ...fields, chunk: claim.chunk.chunkNo, attempts: claim.chunk.attempts }, `${options.kind} chunk ${claim.chunk.chunkNo} of ${options.migration} taken over (attempt ${claim.chunk.attempts}): the worker that held it died or gave it back`)
          } else if (tryExpired) {
            nextReclaimAt = clock.now() + reclaimEveryMs
          }
          inFlight++
          try {
            await workChunk(client, holder, claim.chunk)
          } finally {
            inFlight--
            settled()
          }
          continue
        }
        if (claim.kind === 'stopped') return
        const open = await openChunks(client, holder)
        if (open.open === 0) return
        // Chunks still leased by workers here or elsewhere: wait for them, and take over any whose lease expires.
        nextReclaimAt = 0
        await waitForOpenChunks(open.msToExpiry)
      }
    })
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, options.workers) }, (_, i) =>
      worker(i).catch((error: unknown) => {
        failure ??= error
        stop.abort(error)
      }),
    ))
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
  if (failure !== undefined) throw failure
  if (options.signal?.aborted) throw options.signal.reason
}
