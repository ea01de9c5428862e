import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Cutover } from '../../src/cutover/cutover.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, rowsOf, setPhase, setupOrders } from '../support/orders-fixture.js'
import { ConfigInvalid } from '../../src/core/errors.js'

const db = await freshDatabase()
let cutover: Cutover
let close: () => Promise<void>

beforeAll(async () => {
  await setupOrders(db)
  // A rule the legacy table never had: the shadow refuses amounts over 1000.00.
  await db.query('ALTER TABLE orders_v2 ADD CONSTRAINT amount_limit CHECK (amount <= 1000)')
  const connected = await connectCutover(db)
  cutover = connected.cutover
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
})
afterAll(async () => close())
beforeEach(async () => {
  await db.query('TRUNCATE orders, orders_v2; DELETE FROM cutover.divergences')
})

async function useMode(mode: 'fail' | 'record'): Promise<void> {
  await db.query(
    `UPDATE cutover.migrations SET definition = jsonb_set(definition, '{onSecondaryError}', to_jsonb($1::text))`,
    [mode],
  )
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
}

describe('a secondary write the shadow rejects', () => {
  it('in fail mode fails the statement and writes nothing on either side', async () => {
    await useMode('fail')
    const dal = await cutover.migration('orders_v2')
    await expect(dal.insert(order(1, { amount_cents: 500_000 }))).rejects.toThrow(/amount_limit/)
    await expect(dal.insertMany([order(2), order(3, { amount_cents: 200_000 })])).rejects.toThrow(/amount_limit/)
    expect(await rowsOf(db, 'orders')).toEqual([])
    expect(await rowsOf(db, 'orders_v2')).toEqual([])
    expect(await db.query('SELECT * FROM cutover.divergences')).toEqual([])
  })

  it('in record mode commits the legacy write alone and records a divergence with the key, and nothing else', async () => {
    await useMode('record')
    // A fresh Cutover reads the changed definition.
    const connected = await connectCutover(db)
    try {
      const dal = await connected.cutover.migration('orders_v2')
      const row = await dal.insert(order(4, { amount_cents: 500_000 }))
      expect(row).toMatchObject({ id: '4', amount_cents: 500_000 })
      await dal.insert(order(5))
      expect((await rowsOf(db, 'orders')).map((r) => r.id)).toEqual(['4', '5'])
      expect((await rowsOf(db, 'orders_v2')).map((r) => r.id)).toEqual(['5'])
      const divergences = await db.query('SELECT key, source, kind, detail FROM cutover.divergences')
      expect(divergences).toEqual([
        { key: { id: '4' }, source: 'write', kind: 'write_rejected', detail: expect.stringMatching(/amount_limit/) },
      ])
      // Inside a caller's transaction the fallback keeps the transaction usable.
      const client = await db.pool.connect()
      try {
        await client.query('BEGIN')
        await dal.update(5, { amount_cents: 900_000 }, { tx: client })
        await client.query('COMMIT')
      } finally {
        client.release()
      }
      expect(await db.query('SELECT amount_cents FROM orders WHERE id = 5')).toEqual([{ amount_cents: 900_000 }])
      expect(await db.query('SELECT amount::text FROM orders_v2 WHERE id = 5')).toEqual([{ amount: '12.34' }])
      expect((await db.query('SELECT key FROM cutover.divergences ORDER BY id')).map((r) => r.key)).toEqual([
        { id: '4' },
        { id: '5' },
      ])
    } finally {
      await connected.cutover.close()
      await connected.pool.end()
    }
  })
})

describe('a batch write whose connection is killed mid-statement', () => {
  it('leaves neither table with any part of the batch', async () => {
    await useMode('fail')
    // Slow each shadow row down so the statement is still running when it is killed.
    await db.query(`CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END $$;
                    CREATE TRIGGER slow BEFORE INSERT ON orders_v2 FOR EACH ROW EXECUTE FUNCTION slow_row();`)
    try {
      const dal = await cutover.migration('orders_v2')
      const batch = Array.from({ length: 3000 }, (_, i) => order(1000 + i))
      const write = dal.insertMany(batch).then(
        () => 'committed',
        (error: unknown) => error,
      )
      let killed = 0
      // Active only: an idle connection of the pool shows its last statement, an earlier insert of the same text.
      for (const deadline = Date.now() + 30_000; Date.now() < deadline && killed === 0;) {
        await new Promise((r) => setTimeout(r, 50))
        const rows = await db.query<{ killed: boolean }>(
          'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND state = \'active\' AND query LIKE \'WITH w AS (INSERT INTO "public"."orders"%\' AND pid <> pg_backend_pid()',
        )
        killed = rows.filter((r) => r.killed).length
      }
      expect(killed).toBe(1)
      expect(await write).toBeInstanceOf(Error)
      expect(await db.query('SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 0 }])
      expect(await db.query('SELECT count(*)::int AS n FROM orders_v2')).toEqual([{ n: 0 }])
    } finally {
      await db.query('DROP TRIGGER slow ON orders_v2')
    }
  })
})

describe('batch size', () => {
  it('refuses a batch over the parameter limit with the largest batch that fits', async () => {
    const dal = await cutover.migration('orders_v2')
    const batch = Array.from({ length: 11_000 }, (_, i) => order(i))
    await expect(dal.insertMany(batch)).rejects.toThrow(ConfigInvalid)
    await expect(dal.insertMany(batch)).rejects.toThrow(/split it into batches of at most 10922 rows/)
  })
})

describe('regression: a delete that waits on a backfill chunk', () => {
  it('deletes the shadow row the backfill committed while the delete waited, leaving no ghost', async () => {
    await useMode('fail')
    const dal = await cutover.migration('orders_v2')
    await db.query(`INSERT INTO orders (id, customer_id, amount_cents) VALUES (7, gen_random_uuid()::text, 100)`)
    // A backfill chunk: locks the legacy row FOR SHARE; the shadow has no copy yet.
    const backfill = await db.pool.connect()
    try {
      await backfill.query('BEGIN')
      await backfill.query('SELECT * FROM orders WHERE id = 7 FOR SHARE')
      const deletion = dal.delete(7)
      // Let the delete take its snapshot and queue behind the lock (bounded by time: a loaded machine is slow to get there).
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        const waiting = await db.query(
          "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH w AS (DELETE%'",
        )
        if (waiting.length > 0) break
        await new Promise((r) => setTimeout(r, 20))
      }
      await backfill.query(`INSERT INTO orders_v2 (id, customer, amount, status, placed_at, meta)
                            SELECT id, customer_id::uuid, amount_cents / 100.0, status, placed_at, meta FROM orders WHERE id = 7`)
      await backfill.query('COMMIT')
      expect(await deletion).toMatchObject({ id: '7' })
    } finally {
      backfill.release()
    }
    expect(await db.query('SELECT id FROM orders WHERE id = 7')).toEqual([])
    expect(await db.query('SELECT id FROM orders_v2 WHERE id = 7')).toEqual([])
  })
})
