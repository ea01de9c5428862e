/** Backfill: copies every legacy row of the key range fixed at the job's start into the shadow, chunk by chunk, resumably. */
import type pg from 'pg'
import type { Registry } from 'prom-client'
import { instrumentsFor } from '../../metrics/instruments.js'
import { displayName } from '../../core/identifiers.js'
import type { PoolLike } from '../../db/queryable.js'
import { backfillSql } from '../statements/backfill-sql.js'
import { systemClock, type JobClock } from '../harness/job-clock.js'
import { JobFailed } from '../harness/job-failed.js'
import { defaultJobLogger, type JobLogger } from '../harness/job-logger.js'
import { detailCount, finishJob, readJob, type JobRecord } from '../harness/job-record.js'
import {
  DEFAULT_BACKFILL_PARALLEL,
  DEFAULT_LEASE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_MAX_LOCK_RETRIES,
  DEFAULT_TARGET_CHUNK_MS,
} from '../job-defaults.js'
import { openJob } from '../harness/open-job.js'
import { withClient } from '../../db/with-client.js'
import { isUniqueViolation } from '../../db/pg-errors.js'
import { ChunkConflict } from '../chunks/chunk-conflict.js'
import type { ChunkProgress } from '../chunks/chunk-runner-options.js'
import { runChunks } from '../chunks/run-chunks.js'
import { checkDatabaseThrottle, databaseThrottle } from '../throttles/database-throttle.js'
import { checkJobOptions } from '../harness/job-options.js'
import { inParts } from '../chunks/chunk-parts.js'
import type { KeyRange } from '../chunks/key-range.js'
import type { AppLatencyOptions } from '../throttles/app-latency-source.js'
import { openAppLatency } from '../throttles/app-latency.js'

export interface BackfillOptions {
  readonly schema: string
  readonly migration: string
  /** Who runs it, recorded in the job and its event. */
  readonly actor: string
  readonly reason?: string
  /** Concurrent worker loops in this process (default 1). Other processes may work on the same job at once. */
  readonly workers?: number
  /**
   * Connections each worker copies a chunk on at once (default 2; 1: the chunk's connection only). PostgreSQL runs
   * no INSERT in parallel; each part locks and copies its keys in a transaction of its own. The pool must allow
   * `workers × parallel` clients for all of them to be used; a worker that cannot get one at once copies on fewer.
   */
  readonly parallel?: number
  /** Rows in the first chunk (default 1000, or the resumed job's current size). */
  readonly chunkRows?: number
  /** Chunk time to adapt the size toward (default 200 ms; 0 keeps `chunkRows` fixed). */
  readonly targetChunkMs?: number
  /** Upper bound on rows copied per second by this process (default: none). */
  readonly maxRowsPerSecond?: number
  /**
   * `lock_timeout` of each chunk's transaction (default 1000 ms), for waits other than on legacy row
   * locks (those fail the chunk at once: NOWAIT); a timeout or a locked row is retried with backoff.
   */
  readonly lockTimeoutMs?: number
  /** Retries of a chunk after lock conflicts before the run fails (default 30, about two minutes of backoff). */
  readonly maxLockRetries?: number
  /** How long a claimed chunk stays reserved for its worker (default 15 s); a dead worker's chunk is taken over after it. */
  readonly leaseMs?: number
  /**
   * Holds the next chunk while any streaming replica of the server replays more than this many seconds
   * behind (pg_stat_replication's replay_lag; the role needs pg_monitor), saying why in the log, the
   * `cutover_job_throttled` gauge, `onThrottle` and `cutover status` (default: no such bound).
   */
  readonly maxReplicaLagSeconds?: number
  /**
   * Holds the next chunk while the application's read p99 is above this many milliseconds, saying why
   * (`application p99 412 ms > 250 ms (prometheus)`) in the same places as the replica lag (default: no such bound).
   */
  readonly maxAppP99Ms?: number
  /**
   * Where that p99 comes from: `{ registry }`, the prom-client registry your Cutover was given (the DAL's
   * reads in this process, over the last `windowSeconds`, default 10), or `{ prometheusUrl, query }`, a
   * PromQL instant query returning one number in seconds. Asked once before the job opens: an answer it
   * cannot read refuses the run before anything is written.
   */
  readonly appLatency?: AppLatencyOptions
  /** How often the replica lag and the p99 are looked at (default 1000 ms). */
  readonly throttleCheckMs?: number
  /** Called with the reason when the backfill starts waiting (replica lag, application p99), and with null when it goes on. */
  readonly onThrottle?: (reason: string | null) => void
  readonly registry?: Registry
  readonly logger?: JobLogger
  /** After each chunk: the job's rows done, its row estimate, and the chunk's details. */
  readonly onProgress?: (rowsDone: number, totalEstimate: number | undefined, progress: ChunkProgress) => void
  /** Stops the run after the chunks in flight; the job stays running, and the next run resumes it. */
  readonly signal?: AbortSignal
  readonly clock?: JobClock
}

export interface BackfillResult {
  readonly migration: string
  /** Legacy rows the whole job went over (each once, across resumed runs and workers). */
  readonly rows: number
  /** Of those, rows this job inserted (the rest were already in the shadow, written by dual writes). */
  readonly copied: number
  /** Duration of this call. */
  readonly seconds: number
  readonly jobId: string
  /** True when this call continued a job that was already running. */
  readonly isResumed: boolean
}

/**
 * Copies legacy rows into the shadow through `forward`, in chunks of the key
 * range that existed at the job's start. Each chunk is one short transaction
 * that locks its legacy rows FOR SHARE, inserts what the shadow lacks (a
 * plain insert while the shadow holds none of the chunk's keys, else ON
 * CONFLICT DO NOTHING: a dual write's row wins) and marks the chunk done, so a
 * killed run resumes without copying or counting anything twice.
 */
export async function runBackfill(pool: PoolLike, options: BackfillOptions): Promise<BackfillResult> {
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? defaultJobLogger()
  const started = clock.now()
  const throttleOptions = {
    maxReplicaLagSeconds: options.maxReplicaLagSeconds,
    maxAppP99Ms: options.maxAppP99Ms,
    appLatency: options.appLatency,
    checkIntervalMs: options.throttleCheckMs,
  }
  checkJobOptions(options.migration, 'backfill', options)
  checkDatabaseThrottle(options.migration, throttleOptions)
  const appLatency = await openAppLatency(options.migration, options.appLatency)
  const instruments = instrumentsFor(options.registry)
  instruments.lockRetries.inc({ migration: options.migration, task: 'backfill' }, 0)
  const labels = { migration: options.migration }
  const opened = await openJob(pool, {
    schema: options.schema,
    migration: options.migration,
    kind: 'backfill',
    span: 'legacy',
    actor: options.actor,
    chunkRows: options.chunkRows,
  })
  const { shape, sql, job } = opened
  const copy = backfillSql(shape)
  const legacyName = displayName(shape.definition.legacy.table)
  logger.info(
    {
      migration: options.migration,
      jobId: job.id,
      isResumed: opened.isResumed,
      low: job.lowKey,
      high: job.highKey,
      estimate: job.totalEstimate,
    },
    `backfill of ${options.migration} ${opened.isResumed ? 'resumes' : 'starts'} (job ${job.id}, ${job.totalEstimate ?? 0} rows estimated)`,
  )

  // Set when a chunk found keys a dual write had already put in the shadow: the next chunks skip the plain insert,
  // which would fail whole, and go straight to ON CONFLICT DO NOTHING until one finds none.
  let isShadowPopulated = false
  const parallel = options.parallel ?? DEFAULT_BACKFILL_PARALLEL
  /** The plain insert: a unique violation means a dual write got there first, and the chunk is done again with ON CONFLICT. */
  async function copyFast(on: pg.ClientBase, part: KeyRange): Promise<{ scanned: number; copied: number }> {
    try {
      const copied = (await on.query(copy.copyChunk(part))).rowCount ?? 0
      return { scanned: copied, copied }
    } catch (error) {
      if (!isUniqueViolation(error)) throw error
      // The chunk's transaction is rolled back (its row locks too) and the chunk runs again with ON CONFLICT.
      isShadowPopulated = true
      throw new ChunkConflict(error)
    }
  }
  async function copyKeeping(on: pg.ClientBase, part: KeyRange): Promise<{ scanned: number; copied: number }> {
    const { rows } = await on.query<{ scanned: number; copied: number }>(copy.copyChunkKeepingShadowRows(part))
    return rows[0] ?? { scanned: 0, copied: 0 }
  }
  await runChunks({
    pool,
    migration: options.migration,
    kind: 'backfill',
    jobId: job.id,
    sql,
    keys: opened.keys,
    workers: options.workers ?? 1,
    chunkRows: job.chunkRows,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    sessionSettings: shape.definition.session,
    maxLockRetries: options.maxLockRetries ?? DEFAULT_MAX_LOCK_RETRIES,
    targetChunkMs: options.targetChunkMs ?? DEFAULT_TARGET_CHUNK_MS,
    maxRowsPerSecond: options.maxRowsPerSecond,
    databaseThrottle: databaseThrottle(pool, throttleOptions, appLatency),
    onThrottle(reason) {
      instruments.jobThrottled.set({ ...labels, task: 'backfill' }, reason === null ? 0 : 1)
      options.onThrottle?.(reason)
    },
    signal: options.signal,
    clock,
    logger,
    waitsOn: `a row lock on ${legacyName} held by another transaction (the backfill locks rows FOR SHARE NOWAIT and backs off) or a key of ${displayName(shape.definition.shadow.table)} being written`,
    async work(client, range, { isAfterConflict, expectedRows, begin }) {
      const isFast = !isShadowPopulated && !isAfterConflict
      // Each part copies its keys in a transaction holding their rows FOR SHARE until it commits, as a chunk of its
      // own would. A part on a borrowed connection commits on its own, so it adds what it copied to the job in that
      // same transaction: counted once even when the chunk then fails and is done again (with ON CONFLICT).
      const parts = await inParts({
        pool,
        client,
        range,
        expectedRows,
        parallel,
        keys: opened.keys,
        begin,
        run: async (on, part, isOwn) => {
          const done = isFast ? await copyFast(on, part) : await copyKeeping(on, part)
          if (!isOwn && done.copied > 0)
            await on.query(sql.addTallies, [job.id, JSON.stringify({ copied: done.copied })])
          return { ...done, isOwn }
        },
      })
      for (const part of parts) if (!part.isOwn) instruments.backfillRows.inc(labels, part.copied)
      const own = parts.find((part) => part.isOwn)?.copied ?? 0
      const scanned = parts.reduce((sum, part) => sum + part.scanned, 0)
      const copied = parts.reduce((sum, part) => sum + part.copied, 0)
      // A chunk the shadow held none of says the dual writes have not reached this part of the keys: the fast path again.
      if (!isFast) isShadowPopulated = copied < scanned
      return { rows: scanned, differing: 0, tallies: { copied: own } }
    },
    onLockRetry: () => instruments.lockRetries.inc({ ...labels, task: 'backfill' }),
    onChunkDone(progress) {
      instruments.backfillRows.inc(labels, progress.outcome.tallies.copied ?? 0)
      if (progress.totalEstimate)
        instruments.backfillProgress.set(labels, Math.min(1, progress.rowsDone / progress.totalEstimate))
      options.onProgress?.(progress.rowsDone, progress.totalEstimate ?? undefined, progress)
    },
  })

  const final = await withClient(pool, async (client): Promise<JobRecord> => {
    const finished = await finishJob(client, sql, job.id, {
      migration: options.migration,
      actor: options.actor,
      reason: options.reason,
      details: (done) => ({
        rows: done.rowsDone,
        seconds: done.elapsedSeconds,
        copied: detailCount(done, 'copied'),
        jobId: done.id,
      }),
    })
    return finished ?? (await readJob(client, sql, job.id))
  })
  if (final.status !== 'done') {
    throw new JobFailed(
      options.migration,
      'backfill',
      job.id,
      `the job is ${final.status}${typeof final.details.error === 'string' ? `: ${final.details.error}` : ''}`,
    )
  }
  instruments.backfillProgress.set(labels, 1)
  const seconds = (clock.now() - started) / 1000
  logger.info(
    { migration: options.migration, jobId: job.id, rows: final.rowsDone, seconds },
    `backfill of ${options.migration} done: ${final.rowsDone} rows`,
  )
  return {
    migration: options.migration,
    rows: final.rowsDone,
    copied: detailCount(final, 'copied'),
    seconds,
    jobId: job.id,
    isResumed: opened.isResumed,
  }
}
