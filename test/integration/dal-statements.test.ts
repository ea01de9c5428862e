/**
 * Issue 13: a `{ tx }` that is no transaction is refused (its comparisons would
 * silently not run), and named prepared statements per connection are bounded.
 */
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Cutover } from '../../src/cutover/cutover.js'
import { executorFor } from '../../src/dal/executor.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { StatementPolicy } from '../../src/dal/statement-policy.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
let cutover: Cutover
let pool: pg.Pool
let dal: MigrationDal

beforeAll(async () => {
  await setupOrders(db)
  await setPhase(db.pool, 'ramp', 50)
  ;({ cutover, pool } = await connectCutover(db))
  dal = await cutover.migration('orders_v2')
})
afterAll(async () => {
  await cutover.close()
  await pool.end()
})

describe('{ tx } must be a transaction', () => {
  it('refuses the Kysely instance itself, a pool and a client with no transaction open, naming what to pass, and writes nothing', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
    const client = await pool.connect()
    try {
      await expect(dal.insert(order(1), { tx: kysely })).rejects.toThrow(
        /\{ tx \} is a Kysely instance, not a transaction; pass the transaction your code holds/,
      )
      await expect(dal.get(1, { tx: pool })).rejects.toThrow(/\{ tx \} is a pg pool, not a transaction/)
      await expect(dal.update(1, { status: 'x' }, { tx: client })).rejects.toThrow(
        /\{ tx \} is a pg client with no transaction open \(send BEGIN first\)/,
      )
      expect(await db.query('SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 0 }])
      // The same client inside a transaction, and a Kysely transaction, are taken.
      await client.query('BEGIN')
      await dal.insert(order(2), { tx: client })
      expect(await dal.get(2, { tx: client })).toMatchObject({ id: '2' })
      await client.query('COMMIT')
      await kysely.transaction().execute(async (trx) => {
        await dal.insert(order(3), { tx: trx })
      })
      expect(await db.query('SELECT id::text FROM orders ORDER BY id')).toEqual([{ id: '2' }, { id: '3' }])
    } finally {
      client.release()
      // Not kysely.destroy(): it would end the pool the Cutover uses.
    }
  })
})

describe('named prepared statements', () => {
  it('keeps at most maxPreparedStatements of them on a connection, deallocating the least recently used', async () => {
    const one = new pg.Pool({ connectionString: db.url, max: 1 })
    try {
      const executor = executorFor(one, new StatementPolicy('named', { maxPrepared: 3 }))
      for (let i = 0; i < 10; i++)
        expect(await executor.query<{ n: number }>(`SELECT $1::int + ${i} AS n`, [1])).toEqual([{ n: 1 + i }])
      // The most recent three are prepared; the first again is parsed anew, not refused.
      expect(await one.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).toMatchObject({
        rows: [{ n: 3 }],
      })
      expect(await executor.query<{ n: number }>('SELECT $1::int + 0 AS n', [5])).toEqual([{ n: 5 }])
      expect(await one.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).toMatchObject({
        rows: [{ n: 3 }],
      })
    } finally {
      await one.end()
    }
  })
})
