/** Runs a function on a client of its own from the pool, released afterwards, surviving the death of its connection. */
import type pg from 'pg'
import type { PoolLike } from './queryable.js'

export interface WithClientOptions {
  /** Discard the client rather than return it to the pool when the function throws (or when this says so of the error); default true. */
  readonly discardOnError?: boolean | ((error: unknown) => boolean)
}

/**
 * pg emits 'error' on a checked-out client whose connection dies (a
 * terminated backend, a restarted server) besides failing its query; with no
 * listener, that event would crash the whole process. Here the failing query
 * reports it, and a client that broke, or whose function threw, is discarded
 * rather than returned to the pool.
 */
export async function withClient<T>(
  pool: PoolLike,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: WithClientOptions = {},
): Promise<T> {
  const client = await pool.connect()
  let isBroken = false
  const onError = (): void => {
    isBroken = true
  }
  client.on('error', onError)
  try {
    return await fn(client)
  } catch (error) {
    const discard = options.discardOnError ?? true
    if (typeof discard === 'function' ? discard(error) : discard) isBroken = true
    throw error
  } finally {
    client.removeListener('error', onError)
    client.release(isBroken)
  }
}
