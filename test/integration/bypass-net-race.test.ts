import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installBypassNet } from '../../src/actions/bypass-net.js'
import type { Cutover } from '../../src/cutover/cutover.js'
import { isConstraintViolation, isLockWait } from '../../src/db/pg-errors.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const schema = 'cutover'
const migration = 'orders_v2'
const KEYS = 400
let cutover: Cutover
let dalPool: pg.Pool
const writers: pg.Client[] = []

/** A bypassing writer on its own connection: random inserts, updates (one row or a range) and deletes over the shared keys. */
async function bypassWriter(client: pg.Client, until: number, errors: string[]): Promise<number> {
  let done = 0
  while (Date.now() < until) {
    const id = 1 + Math.floor(Math.random() * KEYS)
    const n = Math.floor(Math.random() * 1000)
    const statements: [string, unknown[]][] = [
      [
        'INSERT INTO orders (id, customer_id, amount_cents) VALUES ($1, gen_random_uuid()::text, $2) ON CONFLICT (id) DO UPDATE SET amount_cents = EXCLUDED.amount_cents',
        [id, n % 1000],
      ],
      ["UPDATE orders SET status = 'cron', amount_cents = amount_cents + 1 WHERE id = $1", [id]],
      ['UPDATE orders SET amount_cents = amount_cents + 1 WHERE id BETWEEN $1 AND $1 + 3', [id]],
      ['DELETE FROM orders WHERE id = $1', [id]],
    ]
    const [text, values] = statements[Math.floor(Math.random() * statements.length)] as [string, unknown[]]
    try {
      await client.query(text, values)
      done++
    } catch (error) {
      // A deadlock between two writers' row locks rolls one statement back whole (on both tables): nothing half-done.
      if (!isLockWait(error) && !isConstraintViolation(error)) throw error
      errors.push((error as Error).message)
    }
  }
  return done
}

async function dalWriter(until: number): Promise<number> {
  const dal = await cutover.migration(migration)
  let done = 0
  while (Date.now() < until) {
    const id = 1 + Math.floor(Math.random() * KEYS)
    const n = Math.floor(Math.random() * 3)
    try {
      if (n % 3 === 0) await dal.upsert(order(id))
      else if (n % 3 === 1) await dal.update(id, { status: 'dal' })
      else await dal.delete(id)
      done++
    } catch (error) {
      if (!isLockWait(error) && !isConstraintViolation(error)) throw error
    }
  }
  return done
}

beforeAll(async () => {
  await setupOrders(db)
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents) SELECT g, gen_random_uuid()::text, g FROM generate_series(1, ${KEYS}) AS g`,
  )
  await setPhase(db.pool, 'dual_write')
  ;({ cutover, pool: dalPool } = await connectCutover(db))
  for (let i = 0; i < 3; i++) {
    const client = new pg.Client({ connectionString: db.url, application_name: `race_cron_${i}` })
    await client.connect()
    writers.push(client)
  }
})

afterAll(async () => {
  for (const client of writers) await client.end()
  await cutover?.close()
  await dalPool?.end()
})

describe('the bypass net in copy mode under concurrency', () => {
  it('keeps the shadow equal to legacy while bypassing writers, DAL writers and the backfill run at once', async () => {
    await installBypassNet(db.pool, { schema, migration, actor: 'race', mode: 'copy' })
    const until = Date.now() + 4000
    const errors: string[] = []
    const backfill = (async () => {
      // The backfill starts on an empty shadow and runs while everyone writes; it is run until one finishes.
      while (
        !(await runBackfill(db.pool, { schema, migration, actor: 'race', chunkRows: 50, targetChunkMs: 0 }).then(
          () => true,
          () => false,
        ))
      );
    })()
    const counts = await Promise.all([
      ...writers.map((client) => bypassWriter(client, until, errors)),
      dalWriter(until),
      dalWriter(until),
      backfill.then(() => 0),
    ])
    expect(counts.slice(0, 3).every((n) => n > 0)).toBe(true)
    const [{ n: counted } = { n: 0 }] = await db.query<{ n: number }>(
      'SELECT coalesce(sum(writes), 0)::int AS n FROM cutover.bypass_write_totals()',
    )
    expect(counted).toBeGreaterThan(0)
    expect(await db.query('SELECT kind, detail FROM cutover.divergences WHERE repaired_at IS NULL')).toEqual([])
    expect(await runVerify(db.pool, { schema, migration, actor: 'race' })).toMatchObject({ clean: true })
  })
})
