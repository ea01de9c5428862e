/**
 * Verify's counting pass over one chunk, split into parts counted on several
 * connections at once: what PostgreSQL's parallel query does for a
 * whole-table diff, and cannot do for a key-range FULL JOIN (planned as one
 * serial merge join; PostgreSQL 15 plans no full join in parallel at all).
 */
import type pg from 'pg'
import { borrowClients, returnBorrowed } from '../db/borrow-client.js'
import type { PoolLike } from '../db/queryable.js'
import type { Statement } from '../db/statement.js'
import { isSameKey, type KeyRange } from './key-range.js'
import { keyFromRow, type KeyRangeSql } from './key-range-sql.js'
import { DIFFERENCE_KINDS, type DifferenceKind } from './verify-sql.js'

export type ChunkCounts = { compared: number } & Record<DifferenceKind, number>

/** A chunk with fewer legacy keys per part than this is counted whole: a part's round trips and cut would cost more than they save. */
export const MIN_PART_ROWS = 20_000
/** How long a worker waits for the pool to give it another connection before counting those parts itself. */
export const BORROW_WAIT_MS = 250

/**
 * Each part's count is a serial plan: the parts are the parallelism, and a part
 * planned in parallel would put two or three processes per part on the cores.
 */
const SERIAL = 'SET LOCAL max_parallel_workers_per_gather = 0'

export interface CountChunkOptions {
  readonly pool: PoolLike
  /** The chunk's own client, inside the chunk's transaction. */
  readonly client: pg.ClientBase
  readonly range: KeyRange
  readonly expectedRows: number
  /** Connections to count on at once, the chunk's own included; 1 counts the chunk whole on its own. */
  readonly parallel: number
  readonly keys: KeyRangeSql
  readonly count: (range: KeyRange) => Statement
  /** The chunk transaction's `BEGIN; SET LOCAL …`, run on each borrowed connection first. */
  readonly begin: string
}

/**
 * Counts the chunk in up to `parallel` parts that cover it exactly once: each
 * part ends at a legacy key and the next starts just after it, so every key of
 * either table in the chunk falls in one part. The first part is counted on the
 * chunk's own connection, in its transaction; the others each on a connection
 * borrowed from the pool, in a transaction of their own with the chunk's lock
 * timeout. The counts only decide whether the chunk is compared again to
 * record what differs (in the chunk's transaction), so one snapshot per part
 * changes nothing: each statement has its own snapshot anyway. Connections the
 * pool cannot give at once are not waited for: the chunk is cut into fewer
 * parts. The chunk's own transaction keeps its serial setting for the rest of
 * the chunk (the recording pass, where the counts found differences).
 */
export async function countChunk(options: CountChunkOptions): Promise<ChunkCounts> {
  const { client, range } = options
  const wanted = Math.min(options.parallel, Math.floor(options.expectedRows / MIN_PART_ROWS))
  if (wanted <= 1) return countOn(client, options.count(range))
  const borrowed = await borrowClients(options.pool, wanted - 1, BORROW_WAIT_MS)
  const broken = new Set<pg.PoolClient>()
  try {
    const parts = await cutParts(client, options.keys, range, 1 + borrowed.length, options.expectedRows)
    if (parts.length === 1) return await countOn(client, options.count(range))
    await client.query(SERIAL)
    // Part i on connection i: the first on the chunk's own, in its transaction.
    const settled = await Promise.allSettled(parts.map(async (part, i) => {
      if (i === 0) return countOn(client, options.count(part))
      const on = borrowed[i - 1]
      if (on === undefined) throw new Error(`verify: no connection for part ${i + 1} of ${parts.length}`)
      try {
        await on.query(`${options.begin}; ${SERIAL}`)
        const counts = await countOn(on, options.count(part))
        await on.query('COMMIT')
        return counts
      } catch (error) {
        broken.add(on)
        throw error
      }
    }))
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed) throw failed.reason
    return sum(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])))
  } finally {
    // A failed part's connection is discarded (its transaction may be open, or its connection gone), never reused.
    for (const on of borrowed) returnBorrowed(on, broken.has(on))
  }
}

/** Up to `count` parts of about equal legacy keys, cut at legacy keys read from the legacy key's index. */
async function cutParts(client: pg.ClientBase, keys: KeyRangeSql, range: KeyRange, count: number, expectedRows: number): Promise<KeyRange[]> {
  const step = Math.max(1, Math.ceil(expectedRows / count))
  const parts: KeyRange[] = []
  let rest: KeyRange = range
  while (parts.length < count - 1) {
    const bound = keys.legacyBound(rest, step)
    const cut = keyFromRow((await client.query<{ key: unknown }>(bound.text, bound.values)).rows[0]?.key)
    // Fewer keys left than a part holds, or the cut is the chunk's own end: the rest is the last part.
    if (cut === null || isSameKey(cut, range.upper)) break
    parts.push({ ...rest, upper: cut })
    rest = { lower: cut, isLowerInclusive: false, upper: range.upper }
  }
  parts.push(rest)
  return parts
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

function sum(all: readonly ChunkCounts[]): ChunkCounts {
  const total: ChunkCounts = { compared: 0, mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 }
  for (const counts of all) for (const k of ['compared', ...DIFFERENCE_KINDS] as const) total[k] += counts[k]
  return total
}
