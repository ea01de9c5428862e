/** A pool of its own on a test database whose checked-out clients are counted, from the pool's own events. */
import pg from 'pg'

export interface CountedPool {
  readonly pool: pg.Pool
  /** The most clients checked out at once so far. */
  peak(): number
  /** Clients checked out now. */
  out(): number
}

export function countedPool(url: string, max: number): CountedPool {
  const pool = new pg.Pool({ connectionString: url, max })
  pool.on('error', () => undefined)
  let out = 0
  let peak = 0
  pool.on('acquire', () => {
    out++
    peak = Math.max(peak, out)
  })
  pool.on('release', () => {
    out--
  })
  return { pool, peak: () => peak, out: () => out }
}
