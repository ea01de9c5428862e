/**
 * One chunk's work split into parts run on several connections at once: what
 * PostgreSQL's parallel query does for a whole-table statement, and does not
 * do for a key-range FULL JOIN (one serial merge join) or for any INSERT.
 */
import type pg from 'pg'
import { borrowClients, returnBorrowed } from '../../db/borrow-client.js'
import type { PoolLike } from '../../db/queryable.js'
import { isSameKey, type KeyRange } from './key-range.js'
import { keyFromRow, type KeyRangeSql } from './key-range-sql.js'

/** A chunk with fewer legacy keys per part than this is done whole: a part's round trips and cut would cost more than they save (a backfill part of 5,000 keys takes about 50 ms, its extra round trips about 1). */
export const MIN_PART_ROWS = 5_000
/** How long a worker waits for the pool to give it another connection before doing the chunk in fewer parts. */
export const BORROW_WAIT_MS = 250

export interface ChunkPartsOptions<T> {
  readonly pool: PoolLike
  /** The chunk's own client, inside the chunk's transaction. */
  readonly client: pg.ClientBase
  readonly range: KeyRange
  readonly expectedRows: number
  /** Connections to work on at once, the chunk's own included; 1 does the chunk whole on its own. */
  readonly parallel: number
  readonly keys: KeyRangeSql
  /** The chunk transaction's `BEGIN; SET LOCAL …`, run on each borrowed connection first. */
  readonly begin: string
  /** More `SET LOCAL` for every part, the chunk's own transaction included (only when the chunk is split). */
  readonly partSettings?: string
  /**
   * One part's work. `isOwn`: on the chunk's client, in the chunk's transaction; otherwise on a borrowed client,
   * in a transaction of its own that commits right after it.
   */
  run(client: pg.ClientBase, part: KeyRange, isOwn: boolean): Promise<T>
}

/**
 * Does the chunk in up to `parallel` parts that cover it exactly once: each
 * part ends at a legacy key and the next starts just after it, so every key of
 * either table in the chunk falls in one part. The first part runs on the
 * chunk's own connection, in its transaction; each other on a connection
 * borrowed from the pool, in a transaction of its own with the chunk's
 * settings (its lock timeout), committed when its part is done. Connections
 * the pool cannot give at once are not waited for: the chunk is cut into fewer
 * parts. Every part is waited for before the first failure is thrown, and a
 * failed part's connection is discarded, never reused.
 */
export async function inParts<T>(options: ChunkPartsOptions<T>): Promise<T[]> {
  const { client, range } = options
  const wanted = Math.min(options.parallel, Math.floor(options.expectedRows / MIN_PART_ROWS))
  if (wanted <= 1) return [await options.run(client, range, true)]
  const borrowed = await borrowClients(options.pool, wanted - 1, BORROW_WAIT_MS)
  const broken = new Set<pg.PoolClient>()
  try {
    const parts = await cutParts(client, options.keys, range, 1 + borrowed.length, options.expectedRows)
    if (parts.length === 1) return [await options.run(client, range, true)]
    if (options.partSettings) await client.query(options.partSettings)
    const settled = await Promise.allSettled(
      parts.map(async (part, i) => {
        if (i === 0) return options.run(client, part, true)
        const on = borrowed[i - 1]
        if (on === undefined) throw new Error(`no connection for part ${i + 1} of ${parts.length}`)
        try {
          await on.query(options.partSettings ? `${options.begin}; ${options.partSettings}` : options.begin)
          const done = await options.run(on, part, false)
          await on.query('COMMIT')
          return done
        } catch (error) {
          broken.add(on)
          throw error
        }
      }),
    )
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed) throw failed.reason
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  } finally {
    for (const on of borrowed) returnBorrowed(on, broken.has(on))
  }
}

/** Up to `count` parts of about equal legacy keys, cut at legacy keys read from the legacy key's index. */
async function cutParts(
  client: pg.ClientBase,
  keys: KeyRangeSql,
  range: KeyRange,
  count: number,
  expectedRows: number,
): Promise<KeyRange[]> {
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
