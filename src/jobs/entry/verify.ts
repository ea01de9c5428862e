/** Verify: compares both tables in the database, chunk by chunk over both tables' keys, recording each differing key. */
import type pg from 'pg'
import type { Registry } from 'prom-client'
import { displayName } from '../../core/identifiers.js'
import { instrumentsFor } from '../../metrics/instruments.js'
import { isConnectionLost } from '../../db/pg-errors.js'
import type { PoolLike } from '../../db/queryable.js'
import { systemClock, type JobClock } from '../harness/job-clock.js'
import { JobFailed } from '../harness/job-failed.js'
import { defaultJobLogger, type JobLogger } from '../harness/job-logger.js'
import { detailCount, failJob, finishJob, readJob, type JobRecord } from '../harness/job-record.js'
import {
  DEFAULT_DIFFERENCE_LIMIT,
  DEFAULT_LEASE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_MAX_LOCK_RETRIES,
  DEFAULT_VERIFY_PARALLEL,
  DEFAULT_VERIFY_TARGET_CHUNK_MS,
  MAX_VERIFY_CHUNK_ROWS,
  MAX_VERIFY_RECORD_ROWS,
} from '../job-defaults.js'
import { openJob } from '../harness/open-job.js'
import { withClient } from '../../db/with-client.js'
import type { ChunkProgress } from '../chunks/chunk-runner-options.js'
import { runChunks } from '../chunks/run-chunks.js'
import { isSameKey, type KeyRange } from '../chunks/key-range.js'
import { keyFromRow } from '../chunks/key-range-sql.js'
import { DIFFERENCE_KINDS, verifySql, type DifferenceKind } from '../statements/verify-sql.js'
import { countChunk, type ChunkCounts } from '../chunks/verify-count.js'
import { checkJobOptions } from '../harness/job-options.js'

export interface VerifyOptions {
  readonly schema: string
  readonly migration: string
  readonly actor: string
  readonly reason?: string
  /** Keys per chunk to start with (default 1000, or the resumed job's current size). */
  readonly chunkRows?: number
  /** Chunk time to adapt the size toward (default 1000 ms, up to 200,000 keys; 0 keeps `chunkRows` fixed). */
  readonly targetChunkMs?: number
  /** Concurrent worker loops in this process (default 1). */
  readonly workers?: number
  /**
   * Connections each worker counts a chunk on at once (default 2, as PostgreSQL's own parallel query uses two
   * workers per query by default; 1: the chunk's connection only). The pool must allow `workers × parallel`
   * clients for all of them to be used; a worker that cannot get one at once counts on fewer.
   */
  readonly parallel?: number
  /** How many differing keys to list in the result (default 100); the counts and the divergences table hold them all. */
  readonly limit?: number
  readonly lockTimeoutMs?: number
  readonly maxLockRetries?: number
  readonly leaseMs?: number
  readonly registry?: Registry
  readonly logger?: JobLogger
  readonly onProgress?: (rowsDone: number, totalEstimate: number | undefined, progress: ChunkProgress) => void
  /** Stops after the chunks in flight; the job stays running and the next verify resumes it. */
  readonly signal?: AbortSignal
  readonly clock?: JobClock
}

export type DifferenceCounts = Readonly<Record<DifferenceKind, number>>

export interface VerifyDifference {
  /** Legacy key column → value, as the pg driver reads the column (int8 and numeric as exact strings). */
  readonly key: Readonly<Record<string, unknown>>
  readonly kind: DifferenceKind
}

export interface VerifyResult {
  readonly migration: string
  readonly rowsCompared: number
  readonly clean: boolean
  readonly counts: DifferenceCounts
  /** Up to `limit` differing keys of the whole job, in key order. */
  readonly differences: readonly VerifyDifference[]
  readonly jobId: string
  /** Duration of this call. */
  readonly seconds: number
  readonly isResumed: boolean
}

function countsOf(job: JobRecord): DifferenceCounts {
  return {
    mismatch: detailCount(job, 'mismatch'),
    missing_in_shadow: detailCount(job, 'missing_in_shadow'),
    missing_in_legacy: detailCount(job, 'missing_in_legacy'),
  }
}

/**
 * Compares every key of both tables (in the range fixed at the job's start)
 * with one FULL JOIN per chunk, entirely in the database. Each differing key is
 * recorded as an open divergence (source 'verify'); a chunk that errors fails
 * the run and the job. Finishing appends a 'verify' event with
 * `{ clean, rowsCompared, counts }`, which the gates read.
 */
export async function runVerify(pool: PoolLike, options: VerifyOptions): Promise<VerifyResult> {
  checkJobOptions(options.migration, 'verify', options)
  const parallel = options.parallel ?? DEFAULT_VERIFY_PARALLEL
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? defaultJobLogger()
  const started = clock.now()
  const instruments = instrumentsFor(options.registry)
  instruments.lockRetries.inc({ migration: options.migration, task: 'verify' }, 0)
  const labels = { migration: options.migration }
  const opened = await openJob(pool, {
    schema: options.schema,
    migration: options.migration,
    kind: 'verify',
    span: 'both',
    actor: options.actor,
    chunkRows: options.chunkRows,
  })
  const { shape, sql, job } = opened
  const compare = verifySql(shape, options.schema)
  // Marks the divergences this job recorded, so the result lists them whichever run or process found them.
  const detail = `verify job ${job.id}`
  logger.info(
    { migration: options.migration, jobId: job.id, isResumed: opened.isResumed },
    `verify of ${options.migration} ${opened.isResumed ? 'resumes' : 'starts'} (job ${job.id})`,
  )

  type Counts = ChunkCounts
  /**
   * The recording pass over a chunk the counting pass found differences in: in ranges of at most
   * MAX_VERIFY_RECORD_ROWS legacy keys (each statement aggregates its range's differing rows), summed.
   */
  async function recordChunk(client: pg.ClientBase, range: KeyRange, keepLease: () => Promise<void>): Promise<Counts> {
    const sum: Counts = { compared: 0, mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 }
    for (let part: KeyRange | null = range; part !== null;) {
      // Recording a large chunk can take longer than its lease: no other worker may take it over meanwhile.
      await keepLease()
      const bound = opened.keys.nextBound(part, MAX_VERIFY_RECORD_ROWS)
      const upper = keyFromRow((await client.query<{ key: unknown }>(bound.text, bound.values)).rows[0]?.key)
      const isLast = upper === null || isSameKey(upper, range.upper)
      const piece: KeyRange = isLast ? part : { ...part, upper }
      const row = (await client.query<Counts>(compare.compareChunk(piece, options.migration, detail))).rows[0]
      for (const k of ['compared', ...DIFFERENCE_KINDS] as const) sum[k] += row?.[k] ?? 0
      part = isLast || upper === null ? null : { lower: upper, isLowerInclusive: false, upper: range.upper }
    }
    return sum
  }

  try {
    await runChunks({
      pool,
      migration: options.migration,
      kind: 'verify',
      jobId: job.id,
      sql,
      keys: opened.keys,
      workers: options.workers ?? 1,
      chunkRows: job.chunkRows,
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      sessionSettings: shape.definition.session,
      maxLockRetries: options.maxLockRetries ?? DEFAULT_MAX_LOCK_RETRIES,
      targetChunkMs: options.targetChunkMs ?? DEFAULT_VERIFY_TARGET_CHUNK_MS,
      maxChunkRows: MAX_VERIFY_CHUNK_ROWS,
      maxRowsPerSecond: undefined,
      databaseThrottle: undefined,
      signal: options.signal,
      clock,
      logger,
      waitsOn: `a lock on ${displayName(shape.definition.legacy.table)}, ${displayName(shape.definition.shadow.table)} or the divergences table (schema changes, or repair)`,
      async work(client, range, { keepLease, expectedRows, begin }) {
        // Counting first is cheaper; only a chunk with differences is compared again to record them (that second,
        // later snapshot is the one reported, so a difference that a concurrent write just settled is not recorded).
        let row: Counts = await countChunk({
          pool,
          client,
          range,
          expectedRows,
          parallel,
          keys: opened.keys,
          count: (part) => compare.checkChunk(part),
          begin,
        })
        if (DIFFERENCE_KINDS.some((k) => row[k] > 0)) row = await recordChunk(client, range, keepLease)
        const tallies = Object.fromEntries(DIFFERENCE_KINDS.map((k) => [k, row[k]])) as Record<DifferenceKind, number>
        const differing = DIFFERENCE_KINDS.reduce((sum, k) => sum + tallies[k], 0)
        return { rows: row.compared, differing, tallies }
      },
      onLockRetry: () => instruments.lockRetries.inc({ ...labels, task: 'verify' }),
      onChunkDone(progress) {
        const { rows, differing, tallies } = progress.outcome
        instruments.verifyRows.inc({ ...labels, result: 'match' }, rows - differing)
        for (const kind of DIFFERENCE_KINDS)
          if (tallies[kind]) instruments.verifyRows.inc({ ...labels, result: kind }, tallies[kind])
        instruments.comparisons.inc({ ...labels, source: 'verify', result: 'match' }, rows - differing)
        if (differing > 0) {
          instruments.comparisons.inc({ ...labels, source: 'verify', result: 'mismatch' }, differing)
          instruments.divergences.inc({ ...labels, source: 'verify' }, differing)
        }
        options.onProgress?.(progress.rowsDone, progress.totalEstimate ?? undefined, progress)
      },
    })
  } catch (error) {
    // A lost connection (terminated, server restarted) leaves the job running, so the next verify resumes it, as after a kill.
    if (error instanceof JobFailed && !isConnectionLost(error.cause))
      await withClient(pool, (client) => failJob(client, sql, job.id, error.detail)).catch(() => undefined)
    throw error
  }

  return withClient(pool, async (client) => {
    const final =
      (await finishJob(client, sql, job.id, {
        migration: options.migration,
        actor: options.actor,
        reason: options.reason,
        details: (done) => {
          const counts = countsOf(done)
          return {
            clean: Object.values(counts).every((n) => n === 0),
            rowsCompared: done.rowsDone,
            counts,
            jobId: done.id,
            seconds: done.elapsedSeconds,
          }
        },
      })) ?? (await readJob(client, sql, job.id))
    if (final.status !== 'done') {
      throw new JobFailed(
        options.migration,
        'verify',
        job.id,
        `the job is ${final.status}${typeof final.details.error === 'string' ? `: ${final.details.error}` : ''}`,
      )
    }
    const counts = countsOf(final)
    const listed = compare.differences(
      options.migration,
      detail,
      Math.max(0, options.limit ?? DEFAULT_DIFFERENCE_LIMIT),
    )
    const { rows } = await client.query<Record<string, unknown> & { kind: DifferenceKind }>(listed.text, listed.values)
    const differences = rows.map((row) => ({
      key: Object.fromEntries(shape.legacyKey.map((column, i) => [column, row[`__k${i}`]])),
      kind: row.kind,
    }))
    const clean = Object.values(counts).every((n) => n === 0)
    const seconds = (clock.now() - started) / 1000
    logger.info(
      { migration: options.migration, jobId: job.id, rowsCompared: final.rowsDone, clean, counts },
      `verify of ${options.migration} done: ${final.rowsDone} keys compared, ${clean ? 'clean' : 'differences found'}`,
    )
    return {
      migration: options.migration,
      rowsCompared: final.rowsDone,
      clean,
      counts,
      differences,
      jobId: job.id,
      seconds,
      isResumed: opened.isResumed,
    }
  })
}
