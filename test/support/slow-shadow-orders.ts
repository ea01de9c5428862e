/**
 * The orders fixture with a knob that makes every read the shadow serves slow
 * (`SET seconds` in shadow_delay, through the backward mapping, as the demo's
 * demo_latency does), in ramp at 100 %, with `rows` legacy rows only a backfill
 * puts in the shadow (keys above the `readKeys` the DAL wrote).
 */
import type pg from 'pg'
import type { Registry } from 'prom-client'
import type { Cutover } from '../../src/cutover/cutover.js'
import type { TestDatabase } from './database.js'
import { connectCutover, order, setPhase, setupOrders } from './orders-fixture.js'

export interface SlowShadowOrders {
  readonly cutover: Cutover
  readonly registry: Registry
  readonly pool: pg.Pool
  /** Sets every shadow read's added latency. */
  setShadowDelay(seconds: number): Promise<void>
  /** Reads keys 1…readKeys through the DAL until the returned stop() is awaited. */
  readContinuously(): () => Promise<void>
}

export async function setupSlowShadowOrders(
  db: TestDatabase,
  readKeys: number,
  rows: number,
): Promise<SlowShadowOrders> {
  await db.query(`CREATE TABLE shadow_delay (seconds float8 NOT NULL);
                  INSERT INTO shadow_delay VALUES (0);
                  CREATE FUNCTION shadow_delay() RETURNS boolean LANGUAGE sql STABLE AS 'SELECT true FROM pg_sleep((SELECT seconds FROM public.shadow_delay))';`)
  await setupOrders(db, {
    backward: {
      customer_id: 'customer::text',
      amount_cents: '(amount * 100)::int',
      status: '(SELECT status FROM (SELECT public.shadow_delay() AS slept) AS d WHERE d.slept)',
    },
  })
  const { cutover, registry, pool } = await connectCutover(db, { random: () => 1 })
  const dal = await cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
  await dal.insertMany(Array.from({ length: readKeys }, (_, i) => order(i + 1)))
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents, status) SELECT g, gen_random_uuid()::text, g, 'new' FROM generate_series(${readKeys + 1}, ${readKeys + rows}) g`,
  )
  await setPhase(db.pool, 'ramp', 100)
  await cutover.watcher.poll()
  return {
    cutover,
    registry,
    pool,
    async setShadowDelay(seconds) {
      await db.query('UPDATE shadow_delay SET seconds = $1', [seconds])
    },
    readContinuously() {
      let reading = true
      const reader = (async () => {
        for (let i = 0; reading; i++) await dal.get((i % readKeys) + 1)
      })()
      return async () => {
        reading = false
        await reader
      }
    },
  }
}

export { until } from './until.js'
