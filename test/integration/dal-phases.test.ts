import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import type { Phase } from '../../src/core/phases.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, rowsOf, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
let cutover: Cutover
let dal: MigrationDal
let close: () => Promise<void>

beforeAll(async () => {
  await setupOrders(db)
  const connected = await connectCutover(db)
  cutover = connected.cutover
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
  dal = await cutover.migration('orders_v2')
})
afterAll(async () => close())
beforeEach(async () => {
  await db.query('TRUNCATE orders, orders_v2')
})

async function enter(phase: Phase, percent?: number): Promise<void> {
  await setPhase(db.pool, phase, percent)
  await cutover.watcher.poll()
  expect(dal.state.phase).toBe(phase)
}

/** Marks the shadow copy of row `id` so a read shows which side served it. */
async function markShadow(id: string): Promise<void> {
  await db.query("UPDATE orders_v2 SET status = 'from-shadow' WHERE id = $1", [id])
}

const writesBoth = ['dual_write', 'shadow_read', 'ramp', 'shadow_primary'] as const

describe('writes in each phase', () => {
  it('off writes only legacy', async () => {
    await enter('off')
    await dal.insert(order(1))
    await dal.update(1, { status: 'paid' })
    expect(await rowsOf(db, 'orders')).toMatchObject([{ id: '1', status: 'paid' }])
    expect(await rowsOf(db, 'orders_v2')).toEqual([])
  })

  for (const phase of writesBoth) {
    it(`${phase} writes both tables with the mapped shape, and deletes on both`, async () => {
      await enter(phase, phase === 'ramp' ? 50 : undefined)
      const inserted = await dal.insert(order(10, { amount_cents: 995 }))
      expect(inserted).toMatchObject({ id: '10', amount_cents: 995, status: 'new' })
      await dal.insertMany([order(11), order(12)])
      await dal.update(11, { status: 'paid', amount_cents: 1 })
      await dal.upsert(order(12, { status: 'shipped' }))
      await dal.upsert(order(13))
      await dal.delete(10)
      const legacy = await rowsOf(db, 'orders')
      expect(legacy.map((r) => [r.id, r.status, r.amount_cents])).toEqual([
        ['11', 'paid', 1],
        ['12', 'shipped', 1234],
        ['13', 'new', 1234],
      ])
      expect(await rowsOf(db, 'orders_v2')).toEqual(legacy)
      const [shadowRow] = await db.query<{ amount: string }>('SELECT amount::text FROM orders_v2 WHERE id = 11')
      expect(shadowRow?.amount).toBe('0.01')
    })
  }

  it('complete writes only the shadow, and returns rows in the legacy shape', async () => {
    await enter('complete')
    const row = await dal.insert(order(20, { amount_cents: 250 }))
    expect(row).toMatchObject({ id: '20', amount_cents: 250 })
    const updated = await dal.update(20, { status: 'paid' })
    expect(updated).toMatchObject({ id: '20', status: 'paid', amount_cents: 250 })
    expect(await rowsOf(db, 'orders')).toEqual([])
    expect(await rowsOf(db, 'orders_v2')).toMatchObject([{ id: '20', status: 'paid', amount_cents: 250 }])
    expect(await dal.delete(20)).toMatchObject({ id: '20' })
    expect(await rowsOf(db, 'orders_v2')).toEqual([])
  })

  it('shadow_primary fills omitted legacy columns from the legacy defaults on the way into the shadow', async () => {
    await enter('shadow_primary')
    const { status: _status, placed_at: _placed, ...partial } = order(30)
    const row = await dal.insert(partial)
    expect(row).toMatchObject({ id: '30', status: 'new' })
    expect(await rowsOf(db, 'orders')).toEqual(await rowsOf(db, 'orders_v2'))
  })

  it('an update of a row the backfill has not copied yet copies it whole', async () => {
    await enter('off')
    await dal.insert(order(40, { status: 'old' }))
    await enter('dual_write')
    await dal.update(40, { amount_cents: 5 })
    expect(await rowsOf(db, 'orders_v2')).toEqual([
      { id: '40', customer_id: expect.any(String), amount_cents: 5, status: 'old' },
    ])
  })

  it('a write inside a transaction the caller rolls back leaves neither table changed', async () => {
    await enter('dual_write')
    const client = await db.pool.connect()
    try {
      await client.query('BEGIN')
      await dal.insert(order(50), { tx: client })
      await client.query('ROLLBACK')
    } finally {
      client.release()
    }
    expect(await rowsOf(db, 'orders')).toEqual([])
    expect(await rowsOf(db, 'orders_v2')).toEqual([])
  })
})

describe('writes that skip the returned row', () => {
  for (const phase of ['dual_write', 'shadow_primary', 'complete'] as const) {
    it(`in ${phase}, returning: false resolves to undefined and 'key' to the legacy key, with the same rows written`, async () => {
      await enter(phase)
      expect(await dal.insert(order(20), { returning: false })).toBeUndefined()
      expect(await dal.insert(order(21), { returning: 'key' })).toEqual({ id: '21' })
      expect(await dal.update(20, { status: 'paid' }, { returning: false })).toBeUndefined()
      expect(await dal.update(21, { status: 'shipped' }, { returning: 'key' })).toEqual({ id: '21' })
      expect(await dal.upsert(order(22), { returning: false })).toBeUndefined()
      expect(await dal.delete(22, { returning: 'key' })).toEqual({ id: '22' })
      const expected = [
        ['20', 'paid'],
        ['21', 'shipped'],
      ]
      expect((await rowsOf(db, 'orders_v2')).map((r) => [r.id, r.status])).toEqual(expected)
      if (phase !== 'complete') expect((await rowsOf(db, 'orders')).map((r) => [r.id, r.status])).toEqual(expected)
    })
  }
})

describe('reads in each phase', () => {
  async function servedFrom(phase: Phase, percent?: number): Promise<string> {
    await enter('dual_write')
    await dal.insert(order(60))
    await markShadow('60')
    await enter(phase, percent)
    const row = await dal.get(60)
    return row?.status === 'from-shadow' ? 'shadow' : 'legacy'
  }

  it('off, dual_write and shadow_read serve legacy', async () => {
    for (const phase of ['off', 'dual_write', 'shadow_read'] as const) {
      await db.query('TRUNCATE orders, orders_v2')
      expect(await servedFrom(phase)).toBe('legacy')
    }
  })

  it('ramp at 100 % serves the shadow for a matching row, and shadow_primary and complete serve the shadow', async () => {
    await enter('dual_write')
    await dal.insert(order(61))
    await enter('ramp', 100)
    await db.query("UPDATE orders_v2 SET migrated_at = now() - interval '1 day' WHERE id = 61")
    expect(await dal.get(61)).toMatchObject({ id: '61' })
    for (const phase of ['shadow_primary', 'complete'] as const) {
      await db.query('TRUNCATE orders, orders_v2')
      expect(await servedFrom(phase)).toBe('shadow')
    }
  })

  it('ramp at 0 % serves legacy', async () => {
    expect(await servedFrom('ramp', 0)).toBe('legacy')
  })

  it('a compared read that finds the shadow different serves the routed shadow row and records the difference in the background', async () => {
    expect(await servedFrom('ramp', 100)).toBe('shadow')
    await cutover.flush()
    expect(await db.query(`SELECT kind FROM cutover.divergences WHERE key = '{"id": "60"}'`)).toEqual([
      { kind: 'mismatch' },
    ])
  })

  it('an inline compared read that finds the shadow different serves the authoritative legacy row', async () => {
    const inline = await connectCutover(db, { comparisons: { mode: 'inline' } })
    try {
      const inlineDal = await inline.cutover.migration('orders_v2')
      await enter('dual_write')
      await dal.insert(order(62))
      await markShadow('62')
      await enter('ramp', 100)
      await inline.cutover.watcher.poll()
      expect((await inlineDal.get(62))?.status).not.toBe('from-shadow')
    } finally {
      await inline.cutover.close()
      await inline.pool.end()
    }
  })

  it('returns undefined for a key on neither side', async () => {
    await enter('ramp', 100)
    expect(await dal.get(999)).toBeUndefined()
  })
})
