/** Chunk leases of a job, from the claim of a chunk to its completion inside the transaction that did its work. */
import type pg from 'pg'
import { inTransaction } from '../../db/with-transaction.js'
import type { JobSql } from '../../store/jobs/job-sql.js'
import { keyFromJson, type KeyRange, type KeyValues } from './key-range.js'
import { type KeyRangeSql } from './key-range-sql.js'

/** Who holds leases and for how long, on which job. */
export interface LeaseHolder {
  readonly jobId: string
  /** Unique per worker loop: host, pid, a random tag and the loop's number. */
  readonly worker: string
  readonly leaseMs: number
  readonly sql: JobSql
  readonly keys: KeyRangeSql
}

export interface LeasedChunk {
  readonly chunkNo: number
  readonly range: KeyRange
  /** 1 for a fresh chunk; more when taken over from a worker whose lease expired. */
  readonly attempts: number
  /** The legacy keys its cut asked for (fewer in the range's last chunk); unknown for a chunk taken over. */
  readonly cutRows?: number
}

export type Claim =
  | { readonly kind: 'chunk'; readonly chunk: LeasedChunk }
  /** Every chunk of the range has been handed out; some may still be leased. */
  | { readonly kind: 'exhausted' }
  /** The job is no longer running (done or failed by another run). */
  | { readonly kind: 'stopped'; readonly status: string }

interface ChunkRow {
  chunk_no: number
  low_key: unknown
  high_key: unknown
  attempts: number
  job_low_key: unknown
}

function leasedChunk(row: ChunkRow): LeasedChunk {
  const low = keyFromJson(row.low_key)
  const jobLow = keyFromJson(row.job_low_key)
  const upper = keyFromJson(row.high_key)
  if (upper === null || (low === null && jobLow === null))
    throw new Error(`chunk ${row.chunk_no} has no key bounds; the control schema was edited by hand`)
  // A null low key marks the job's first chunk, which starts at the job's low key itself.
  const range =
    low === null
      ? { lower: jobLow as KeyValues, isLowerInclusive: true, upper }
      : { lower: low, isLowerInclusive: false, upper }
  return { chunkNo: row.chunk_no, range, attempts: row.attempts }
}

/** Takes over the first chunk whose lease expired (its worker died or gave it back), skipping any another worker is taking. */
export async function reclaimExpiredChunk(
  client: pg.ClientBase,
  holder: LeaseHolder,
): Promise<LeasedChunk | undefined> {
  const { rows } = await client.query<ChunkRow>(holder.sql.reclaimExpired, [
    holder.jobId,
    holder.worker,
    holder.leaseMs,
  ])
  return rows[0] ? leasedChunk(rows[0]) : undefined
}

/**
 * Cuts the next chunk off the range: under the job row's lock, finds the key
 * `chunk_rows` keys past the cursor (capped at the job's high key), leases the
 * chunk up to it and advances the cursor, in one short transaction of three
 * round trips (BEGIN with the lock, job-sql.ts claimBegin; the cut; COMMIT).
 */
export async function claimNextChunk(client: pg.ClientBase, holder: LeaseHolder): Promise<Claim> {
  const { sql, keys } = holder
  return inTransaction(
    client,
    async (began) => {
      const job = (began[2]?.rows[0] ?? undefined) as
        | {
            status: string
            low_key: unknown
            high_key: unknown
            cursor_key: unknown
            cursor_exhausted: boolean
            chunk_rows: number
          }
        | undefined
      if (!job || job.status !== 'running') return { kind: 'stopped', status: job?.status ?? 'missing' }
      const low = keyFromJson(job.low_key)
      const high = keyFromJson(job.high_key)
      if (job.cursor_exhausted || low === null || high === null) return { kind: 'exhausted' }
      const cursor = keyFromJson(job.cursor_key)
      const probe: KeyRange =
        cursor === null
          ? { lower: low, isLowerInclusive: true, upper: high }
          : { lower: cursor, isLowerInclusive: false, upper: high }
      const bound = keys.nextBound(probe, Math.max(1, job.chunk_rows))
      const { rows } = await client.query<{ chunk_no: number; attempts: number; high_key: unknown }>(
        sql.cutChunk(bound.text, bound.values.length),
        [
          ...bound.values,
          holder.jobId,
          cursor === null ? null : JSON.stringify(cursor),
          JSON.stringify(high),
          holder.worker,
          holder.leaseMs,
        ],
      )
      const chunk = rows[0]
      const upper = keyFromJson(chunk?.high_key)
      if (!chunk || upper === null) throw new Error(`the chunk cut from job ${holder.jobId} has no upper key`)
      return {
        kind: 'chunk',
        chunk: {
          chunkNo: chunk.chunk_no,
          range: { ...probe, upper },
          attempts: chunk.attempts,
          cutRows: Math.max(1, job.chunk_rows),
        },
      }
    },
    sql.claimBegin(client.escapeLiteral(holder.jobId)),
  )
}

/** Expired leases first, then a new chunk. `tryExpired: false` skips the look for expired leases (it scans the job's chunks). */
export async function claimChunk(
  client: pg.ClientBase,
  holder: LeaseHolder,
  options: { tryExpired: boolean } = { tryExpired: true },
): Promise<Claim> {
  if (options.tryExpired) {
    const reclaimed = await reclaimExpiredChunk(client, holder)
    if (reclaimed) return { kind: 'chunk', chunk: reclaimed }
  }
  return claimNextChunk(client, holder)
}

export async function extendLease(client: pg.ClientBase, holder: LeaseHolder, chunk: LeasedChunk): Promise<void> {
  await client.query(holder.sql.extendLease, [holder.jobId, chunk.chunkNo, holder.worker, holder.leaseMs])
}

/** Gives the chunk back (its lease expires now) so the next claim, here or elsewhere, takes it first. */
export async function releaseLease(client: pg.ClientBase, holder: LeaseHolder, chunk: LeasedChunk): Promise<void> {
  await client.query(holder.sql.releaseLease, [holder.jobId, chunk.chunkNo, holder.worker])
}

/**
 * Completes a chunk and adds its tallies to the job, in one statement, inside the transaction that did the chunk's
 * work. Null when another worker took the lease over (nothing was added): the caller must roll back.
 */
export async function completeAndTally(
  client: pg.ClientBase,
  holder: LeaseHolder,
  chunk: LeasedChunk,
  outcome: { rows: number; differing: number; tallies: Readonly<Record<string, number>> },
  nextChunkRows: number | null,
): Promise<{ rowsDone: number; totalEstimate: number | null } | null> {
  const { rows } = await client.query<{ rows_done: string; total_estimate: string | null }>(
    holder.sql.completeAndTally,
    [
      holder.jobId,
      chunk.chunkNo,
      holder.worker,
      outcome.rows,
      outcome.differing,
      JSON.stringify(outcome.tallies),
      nextChunkRows,
    ],
  )
  const row = rows[0]
  if (!row) return null
  return {
    rowsDone: Number(row.rows_done),
    totalEstimate: row.total_estimate === null ? null : Number(row.total_estimate),
  }
}

export interface OpenChunks {
  readonly open: number
  /** Until the first open lease expires; null when none is open. */
  readonly msToExpiry: number | null
}

export async function openChunks(client: pg.ClientBase, holder: LeaseHolder): Promise<OpenChunks> {
  const { rows } = await client.query<{ open: number; ms_to_expiry: number | null }>(holder.sql.openChunks, [
    holder.jobId,
  ])
  return { open: rows[0]?.open ?? 0, msToExpiry: rows[0]?.ms_to_expiry ?? null }
}
