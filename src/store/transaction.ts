/** Runs a function in one transaction on a dedicated client, rolling back on any error. */
import type pg from 'pg'

export interface Queryable {
  query: pg.ClientBase['query']
}

export interface PoolLike {
  connect(): Promise<pg.PoolClient>
}

export async function withTransaction<T>(pool: PoolLike, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
