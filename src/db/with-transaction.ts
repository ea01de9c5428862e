/** Runs a function in one transaction on a dedicated client, rolling back on any error. */
import type pg from 'pg'

export interface Queryable {
  query: pg.ClientBase['query']
}

export interface PoolLike {
  connect(): Promise<pg.PoolClient>
}

/**
 * A connection error on the client (a terminated backend) is handled here, so
 * it never crashes the process, and the broken client is discarded.
 */
export async function withTransaction<T>(pool: PoolLike, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let isBroken = false
  const onError = (): void => { isBroken = true }
  client.on('error', onError)
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.removeListener('error', onError)
    client.release(isBroken)
  }
}
