/** The one BEGIN … COMMIT / ROLLBACK sequence: on a client the caller holds, or on a dedicated client from a pool. */
import type pg from 'pg'
import type { PoolLike } from './queryable.js'
import { withClient } from './with-client.js'

/**
 * Runs a function in one transaction on a client the caller already holds, rolling back on any error.
 * `begin` may add settings or a first statement to the BEGIN round trip (`BEGIN; SET LOCAL …`: no parameters);
 * `fn` is given that round trip's results (one per statement).
 */
export async function inTransaction<T>(
  client: pg.ClientBase,
  fn: (began: readonly pg.QueryResult[]) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  try {
    const began = (await client.query(begin)) as unknown as pg.QueryResult | pg.QueryResult[]
    const result = await fn(Array.isArray(began) ? began : [began])
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}

/**
 * Runs a function in one transaction on a dedicated client, rolling back on
 * any error. A connection error on the client (a terminated backend) is
 * handled, so it never crashes the process, and the broken client is discarded.
 */
export async function withTransaction<T>(pool: PoolLike, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, (client) => inTransaction(client, () => fn(client)), { discardOnError: false })
}

/**
 * Runs a function in a transaction that is always rolled back: a check that may take locks or compile SQL but keeps nothing.
 * Inside a transaction already (the doctor runs each check in one), a savepoint rolled back does the same
 * without ending the caller's transaction.
 */
export async function inRolledBackTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  const isInTransaction = (client as { getTransactionStatus?: () => string | null }).getTransactionStatus?.() === 'T'
  await client.query(isInTransaction ? 'SAVEPOINT cutover_rolled_back' : 'BEGIN')
  try {
    return await fn()
  } finally {
    await client.query(isInTransaction ? 'ROLLBACK TO SAVEPOINT cutover_rolled_back' : 'ROLLBACK')
  }
}
