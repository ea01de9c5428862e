/**
 * Verify's counting pass over one chunk, in parts counted on several
 * connections at once (chunk-parts.ts): a key-range FULL JOIN is planned as
 * one serial merge join, and PostgreSQL 15 plans no full join in parallel.
 */
import type pg from 'pg'
import type { Statement } from '../../db/statement.js'
import { inParts, type ChunkPartsOptions } from './chunk-parts.js'
import type { KeyRange } from './key-range.js'
import { DIFFERENCE_KINDS, type DifferenceKind } from '../statements/verify-sql.js'

export type ChunkCounts = { compared: number } & Record<DifferenceKind, number>

/**
 * Each part's count is a serial plan: the parts are the parallelism, and a part
 * planned in parallel would put two or three processes per part on the cores.
 * The chunk's own transaction keeps it for the rest of the chunk (the recording
 * pass, where the counts found differences).
 */
const SERIAL = 'SET LOCAL max_parallel_workers_per_gather = 0'

/** The chunk and its parts' settings, as {@link inParts} takes them, and the counting statement of a part. */
export type CountChunkOptions = Omit<ChunkPartsOptions<ChunkCounts>, 'run' | 'partSettings'> & {
  readonly count: (range: KeyRange) => Statement
}

/**
 * Counts the chunk in parts. The counts only decide whether the chunk is
 * compared again to record what differs (in the chunk's transaction), so one
 * snapshot per part changes nothing: each statement has its own snapshot anyway.
 */
export async function countChunk(options: CountChunkOptions): Promise<ChunkCounts> {
  const counts = await inParts({
    ...options,
    partSettings: SERIAL,
    run: (client, part) => countOn(client, options.count(part)),
  })
  const total: ChunkCounts = { compared: 0, mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 }
  for (const part of counts) for (const k of ['compared', ...DIFFERENCE_KINDS] as const) total[k] += part[k]
  return total
}

async function countOn(client: pg.ClientBase, statement: Statement): Promise<ChunkCounts> {
  const row = (await client.query<ChunkCounts>(statement.text, [...statement.values])).rows[0]
  return {
    compared: row?.compared ?? 0,
    mismatch: row?.mismatch ?? 0,
    missing_in_shadow: row?.missing_in_shadow ?? 0,
    missing_in_legacy: row?.missing_in_legacy ?? 0,
  }
}
