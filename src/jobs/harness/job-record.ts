/** The life of a job row in the control schema, from its start (or resumption) to its finish. */
import type pg from 'pg'
import { inTransaction } from '../../db/with-transaction.js'
import { DEFAULT_CHUNK_ROWS } from '../job-defaults.js'
import type { JobKind } from './job-failed.js'
import type { JobSql } from '../../store/jobs/job-sql.js'
import { keyFromJson, type KeyValues } from '../chunks/key-range.js'
import { keyFromRow, type KeyRangeSql } from '../chunks/key-range-sql.js'

export interface JobRecord {
  readonly id: string
  readonly kind: JobKind
  readonly status: 'running' | 'done' | 'failed' | 'abandoned'
  /** Key bounds fixed at the start (inclusive both ends); null when there were no rows. */
  readonly lowKey: KeyValues | null
  readonly highKey: KeyValues | null
  readonly totalEstimate: number | null
  readonly rowsDone: number
  readonly rowsDiffering: number
  readonly chunkRows: number
  /** Counters the chunks added up (`copied`, `mismatch`, …) and, for a failed job, `error`. */
  readonly details: Readonly<Record<string, unknown>>
  /** From the start to the finish (or to now, while running). */
  readonly elapsedSeconds: number
}

interface JobRow {
  id: string
  kind: JobKind
  status: JobRecord['status']
  low_key: unknown
  high_key: unknown
  total_estimate: string | null
  rows_done: string
  rows_differing: string
  chunk_rows: number
  details: Record<string, unknown>
  elapsed_seconds: number
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    lowKey: keyFromJson(row.low_key),
    highKey: keyFromJson(row.high_key),
    totalEstimate: row.total_estimate === null ? null : Number(row.total_estimate),
    rowsDone: Number(row.rows_done),
    rowsDiffering: Number(row.rows_differing),
    chunkRows: row.chunk_rows,
    details: row.details,
    elapsedSeconds: row.elapsed_seconds,
  }
}

/** A counter from a job's details (numbers added up in SQL come back as JSON numbers). */
export function detailCount(job: JobRecord, name: string): number {
  const value = job.details[name]
  return typeof value === 'number' ? value : Number(value ?? 0)
}

export interface StartJobInput {
  readonly migration: string
  readonly kind: JobKind
  readonly actor: string
  /** Rows per chunk to start with; on a resumed job, replaces its current size. */
  readonly chunkRows: number | undefined
  readonly keys: KeyRangeSql
}

async function findRunning(client: pg.ClientBase, sql: JobSql, input: StartJobInput): Promise<JobRecord | undefined> {
  const { rows } = await client.query<JobRow>(sql.findRunning, [input.migration, input.kind])
  return rows[0] ? toRecord(rows[0]) : undefined
}

/**
 * Resumes the running job of (migration, kind), or starts one over the key
 * range that exists now: rows added beyond it later are not part of the job.
 * When two runs start at once, one inserts the job and the other resumes it.
 */
export async function startOrResumeJob(
  client: pg.ClientBase,
  sql: JobSql,
  input: StartJobInput,
): Promise<{ job: JobRecord; isResumed: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const running = await findRunning(client, sql, input)
    if (running) {
      if (input.chunkRows !== undefined && input.chunkRows !== running.chunkRows) {
        await client.query(sql.setChunkRows, [running.id, input.chunkRows])
        return { job: { ...running, chunkRows: input.chunkRows }, isResumed: true }
      }
      return { job: running, isResumed: true }
    }
    const { rows: bounds } = await client.query<{ low: unknown; high: unknown }>(
      input.keys.bounds.text,
      input.keys.bounds.values,
    )
    const low = keyFromRow(bounds[0]?.low)
    const high = keyFromRow(bounds[0]?.high)
    let estimate = '0'
    if (low !== null) {
      const { rows } = await client.query<{ estimate: string }>(input.keys.estimate.text, input.keys.estimate.values)
      estimate = rows[0]?.estimate ?? '0'
    }
    const json = (key: KeyValues | null): string | null => (key === null ? null : JSON.stringify(key))
    const { rows } = await client.query<JobRow>(sql.insert, [
      input.migration,
      input.kind,
      json(low),
      json(high),
      estimate,
      input.chunkRows ?? DEFAULT_CHUNK_ROWS,
      input.actor,
    ])
    if (rows[0]) return { job: toRecord(rows[0]), isResumed: false }
    // Another run inserted the job between our look and our insert: resume it.
  }
  throw new Error(
    `could not start or resume the ${input.kind} job of ${input.migration}: it kept changing under us; run the command again`,
  )
}

export async function readJob(client: pg.ClientBase, sql: JobSql, jobId: string): Promise<JobRecord> {
  const { rows } = await client.query<JobRow>(sql.read, [jobId])
  if (!rows[0]) throw new Error(`job ${jobId} is gone from the control schema; was the migration deleted?`)
  return toRecord(rows[0])
}

/**
 * Marks the job done when every chunk is, appending its event in the same
 * transaction. Returns the finished job, or undefined when another run
 * finished it (or chunks are still open).
 */
export async function finishJob(
  client: pg.ClientBase,
  sql: JobSql,
  jobId: string,
  event: {
    readonly migration: string
    readonly actor: string
    readonly reason?: string | undefined
    details(job: JobRecord): Record<string, unknown>
  },
): Promise<JobRecord | undefined> {
  return inTransaction(client, async () => {
    const { rows } = await client.query<JobRow>(sql.finish, [jobId])
    if (!rows[0]) return undefined
    const job = toRecord(rows[0])
    await sql.control.insertEvent(client, {
      migration: event.migration,
      actor: event.actor,
      kind: job.kind,
      reason: event.reason,
      details: event.details(job),
    })
    return job
  })
}

/** Marks a running job failed, keeping what went wrong in its details. */
export async function failJob(client: pg.ClientBase, sql: JobSql, jobId: string, error: string): Promise<void> {
  await client.query(sql.fail, [jobId, JSON.stringify({ error })])
}
