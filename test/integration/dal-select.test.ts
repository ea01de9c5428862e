import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routeRead } from '../../src/core/routing.js'
import type { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
let cutover: Cutover
let dal: MigrationDal
let close: () => Promise<void>

beforeAll(async () => {
  await setupOrders(db)
  const connected = await connectCutover(db, { random: () => 0.5 })
  cutover = connected.cutover
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
  dal = await cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
  await dal.insertMany(Array.from({ length: 400 }, (_, i) => order(i + 1, { status: i % 2 ? 'paid' : 'new' })))
  // Mark every shadow row so a read shows which side served it (comparison sampled out: random 0.5 > 0.01).
  await db.query("UPDATE orders_v2 SET status = status || '*'")
})
afterAll(async () => close())

describe('routed key reads through the DAL', () => {
  it('serves exactly the keys routing puts on the shadow at 50 %, and the same keys again', async () => {
    await setPhase(db.pool, 'ramp', 50)
    await cutover.watcher.poll()
    const state = dal.state
    for (let round = 0; round < 2; round++) {
      for (let id = 1; id <= 400; id++) {
        const row = await dal.get(id, { routingKey: `tenant-${id}` })
        const served = String(row?.status).endsWith('*') ? 'shadow' : 'legacy'
        expect(served).toBe(routeRead('orders_v2', state, `tenant-${id}`))
      }
    }
  })
})

describe('select of any shape', () => {
  it('runs a Kysely select on legacy, and on the shadow (as the legacy table) at 100 %', async () => {
    const query = (from: Parameters<Parameters<MigrationDal['select']>[0]>[0]) =>
      from.select(['id', 'status', 'amount_cents']).where('orders.id', '<=', 3).orderBy('id')
    await setPhase(db.pool, 'ramp', 0)
    await cutover.watcher.poll()
    expect(await dal.select(query)).toEqual([
      { id: '1', status: 'new', amount_cents: 1234 },
      { id: '2', status: 'paid', amount_cents: 1234 },
      { id: '3', status: 'new', amount_cents: 1234 },
    ])
    await setPhase(db.pool, 'ramp', 100)
    await cutover.watcher.poll()
    expect((await dal.select(query)).map((r) => r.status)).toEqual(['new*', 'paid*', 'new*'])
  })

  it('compares a sampled select by key and records the differing keys, alike inline (serving legacy) and in the background (serving the routed shadow)', async () => {
    await db.query("UPDATE orders_v2 SET status = rtrim(status, '*')")
    await db.query('UPDATE orders_v2 SET amount = 99 WHERE id = 5; DELETE FROM orders_v2 WHERE id = 6')
    const served: Record<string, unknown[]> = {}
    for (const mode of ['inline', 'background'] as const) {
      await db.query('DELETE FROM cutover.divergences')
      const connected = await connectCutover(db, { random: () => 0, comparisons: { mode } })
      try {
        const compared = await connected.cutover.migration('orders_v2')
        const rows = await compared.select((from) => from.selectAll().where('id', '<=', 8).orderBy('id'))
        served[mode] = rows.map((r) => r.amount_cents)
        await connected.cutover.flush()
        expect(await db.query('SELECT key, kind FROM cutover.divergences ORDER BY key'), mode).toEqual([
          { key: { id: '5' }, kind: 'mismatch' },
          { key: { id: '6' }, kind: 'missing_in_shadow' },
        ])
      } finally {
        await connected.cutover.close()
        await connected.pool.end()
      }
    }
    expect(served).toEqual({ inline: Array(8).fill(1234), background: [1234, 1234, 1234, 1234, 9900, 1234, 1234] })
  })

  it("a compared select inside a caller's transaction whose comparison fails leaves that transaction usable, in either mode", async () => {
    await setPhase(db.pool, 'shadow_read')
    const modes = ['inline', 'background'] as const
    const connections = await Promise.all(
      modes.map((mode) => connectCutover(db, { random: () => 0, comparisons: { mode } })),
    )
    try {
      const dals = await Promise.all(connections.map((c) => c.cutover.migration('orders_v2')))
      // The shadow loses a column the comparison reads (its definition was loaded before).
      await db.query('ALTER TABLE orders_v2 RENAME COLUMN status TO status_renamed')
      for (const [i, mode] of modes.entries()) {
        const connected = connections[i] as (typeof connections)[number]
        const client = await connected.pool.connect()
        try {
          await client.query('BEGIN')
          await client.query('UPDATE orders SET amount_cents = 777 WHERE id = 1')
          const rows = await dals[i]?.select(
            (from) => from.select(['id', 'amount_cents']).where('id', '<=', 2).orderBy('id'),
            { tx: client },
          )
          expect(rows, mode).toEqual([
            { id: '1', amount_cents: 777 },
            { id: '2', amount_cents: 1234 },
          ])
          expect((await client.query<{ ok: number }>('SELECT 1 AS ok')).rows, mode).toEqual([{ ok: 1 }])
          await client.query('ROLLBACK')
        } finally {
          client.release()
        }
        await connected.cutover.flush()
        const errors = (await connected.registry.getSingleMetric('cutover_comparisons_total')?.get())?.values.find(
          (v) => v.labels.result === 'error' && v.labels.source === 'read',
        )
        expect(errors?.value, mode).toBe(1)
      }
    } finally {
      await db.query('ALTER TABLE orders_v2 RENAME COLUMN status_renamed TO status').catch(() => undefined)
      for (const c of connections) {
        await c.cutover.close()
        await c.pool.end()
      }
    }
  })
})
