/** The ports through which cutover runs SQL on PostgreSQL: something to query, and a pool to check clients out of. */
import type pg from 'pg'

/** A pool, a client or a transaction's client: anything that runs one statement. */
export interface Queryable {
  query: pg.ClientBase['query']
}

/** Where a dedicated client comes from (a pg.Pool). */
export interface PoolLike {
  connect(): Promise<pg.PoolClient>
}
