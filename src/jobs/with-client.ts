/** Runs a function on a client of its own from the pool, released afterwards. */
import type pg from 'pg'
import type { PoolLike } from '../store/transaction.js'

export async function withClient<T>(pool: PoolLike, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    return await fn(client)
  } finally {
    client.release()
  }
}
