import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Registry } from 'prom-client'
import type { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
let cutover: Cutover
let dal: MigrationDal
let registry: Registry
let close: () => Promise<void>

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const found = (await registry.getSingleMetric(name)?.get())?.values.find((v) =>
    Object.entries(labels).every(([k, val]) => v.labels[k] === val),
  )
  return found?.value ?? 0
}

beforeAll(async () => {
  await setupOrders(db, { compare: { placed_at: 'timestamp_ms' } })
  const connected = await connectCutover(db)
  ;({ cutover, registry } = connected)
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
  dal = await cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
  for (let id = 1; id <= 8; id++) await dal.insert(order(id))
  await setPhase(db.pool, 'shadow_read')
  await cutover.watcher.poll()
})
afterAll(async () => close())

describe('read comparison in shadow_read', () => {
  it('finds nothing on untouched rows, and counts each comparison as a match', async () => {
    for (let id = 1; id <= 8; id++) await dal.get(id)
    await cutover.flush()
    expect(await db.query('SELECT * FROM cutover.divergences')).toEqual([])
    expect(await metric('cutover_comparisons_total', { result: 'match', source: 'read' })).toBe(8)
  })

  it('ignores representational differences: JSON key order and a timestamp equal at millisecond precision', async () => {
    await db.query(
      `UPDATE orders_v2 SET meta = '{"b": [1, 2],   "a": 1}'::json, placed_at = placed_at + interval '300 microseconds' WHERE id = 1`,
    )
    expect(await db.query<{ meta: string }>('SELECT meta::text AS meta FROM orders_v2 WHERE id = 1')).toEqual([
      { meta: '{"b": [1, 2],   "a": 1}' },
    ])
    await dal.get(1)
    await cutover.flush()
    expect(await db.query('SELECT * FROM cutover.divergences')).toEqual([])
  })

  it('reports a changed value, a NULL, a missing shadow row and an extra JSON key once each, and serves legacy', async () => {
    await db.query(`UPDATE orders_v2 SET status = 'tampered' WHERE id = 2;
                    UPDATE orders_v2 SET meta = NULL WHERE id = 3;
                    DELETE FROM orders_v2 WHERE id = 4;
                    UPDATE orders_v2 SET meta = '{"a": 1, "b": [1, 2], "extra": true}' WHERE id = 5;`)
    for (let round = 0; round < 2; round++) {
      for (const id of [2, 3, 4, 5, 6]) {
        const row = await dal.get(id)
        expect(row).toMatchObject({ id: String(id), status: 'new' })
      }
    }
    await cutover.flush()
    const rows = await db.query<{ key: unknown; kind: string; seen_count: number; source: string }>(
      'SELECT key, kind, seen_count, source FROM cutover.divergences ORDER BY key',
    )
    expect(rows).toEqual([
      { key: { id: '2' }, kind: 'mismatch', seen_count: 2, source: 'read' },
      { key: { id: '3' }, kind: 'mismatch', seen_count: 2, source: 'read' },
      { key: { id: '4' }, kind: 'missing_in_shadow', seen_count: 2, source: 'read' },
      { key: { id: '5' }, kind: 'mismatch', seen_count: 2, source: 'read' },
    ])
    expect(await metric('cutover_divergences_total', { source: 'read' })).toBe(8)
    const [stored] = await db.query<{
      legacy_row: Record<string, unknown>
      shadow_row: Record<string, unknown>
      legacy_hash: string
      shadow_hash: string
    }>('SELECT legacy_row, shadow_row, legacy_hash, shadow_hash FROM cutover.divergences WHERE key = \'{"id": "2"}\'')
    expect(stored?.legacy_row.status).toBe('new')
    expect(stored?.shadow_row.status).toBe('tampered')
    expect(stored?.legacy_hash).not.toBe(stored?.shadow_hash)
  })

  it('reports a key present only in the shadow as missing in legacy', async () => {
    await db.query(
      `INSERT INTO orders_v2 (id, customer, amount, status, placed_at) VALUES (77, gen_random_uuid(), 1, 'ghost', now())`,
    )
    expect(await dal.get(77)).toBeUndefined()
    await cutover.flush()
    expect(await db.query(`SELECT kind FROM cutover.divergences WHERE key = '{"id": "77"}'`)).toEqual([
      { kind: 'missing_in_legacy' },
    ])
  })

  it('counts a comparison that fails as an error and still serves the read', async () => {
    await db.query('ALTER TABLE orders_v2 RENAME COLUMN status TO status_renamed')
    try {
      const before = await metric('cutover_comparisons_total', { result: 'error' })
      expect(await dal.get(6)).toMatchObject({ id: '6', status: 'new' })
      await cutover.flush()
      expect(await metric('cutover_comparisons_total', { result: 'error' })).toBe(before + 1)
    } finally {
      await db.query('ALTER TABLE orders_v2 RENAME COLUMN status_renamed TO status')
    }
  })
})

describe('background and inline comparisons', () => {
  const snapshot = (): Promise<Record<string, unknown>[]> =>
    db.query(
      'SELECT key, source, kind, seen_count, legacy_row, shadow_row, legacy_hash, shadow_hash, detail FROM cutover.divergences ORDER BY key',
    )

  it('a background comparison finds an injected mismatch and records it exactly as an inline one', async () => {
    await db.query(
      `UPDATE orders_v2 SET status = 'tampered', meta = '{"x": 1.50}' WHERE id = 7; DELETE FROM orders_v2 WHERE id = 8`,
    )
    const recorded: Record<string, Record<string, unknown>[]> = {}
    for (const mode of ['inline', 'background'] as const) {
      await db.query('DELETE FROM cutover.divergences')
      const connected = await connectCutover(db, { comparisons: { mode } })
      try {
        const modeDal = await connected.cutover.migration('orders_v2')
        for (const id of [6, 7, 8]) expect(await modeDal.get(id)).toMatchObject({ id: String(id), status: 'new' })
        await connected.cutover.flush()
        recorded[mode] = await snapshot()
      } finally {
        await connected.cutover.close()
        await connected.pool.end()
      }
    }
    expect(recorded.background?.map((r) => [r.key, r.kind])).toEqual([
      [{ id: '7' }, 'mismatch'],
      [{ id: '8' }, 'missing_in_shadow'],
    ])
    expect(recorded.background).toEqual(recorded.inline)
  })

  it('drops a comparison over the bound in flight and counts it as skipped, while every caller gets its row', async () => {
    const connected = await connectCutover(db, { comparisons: { mode: 'background', maxInFlight: 1 } })
    const blocker = await db.pool.connect()
    try {
      const modeDal = await connected.cutover.migration('orders_v2')
      const count = async (result: string): Promise<number> => {
        const found = (await connected.registry.getSingleMetric('cutover_comparisons_total')?.get())?.values.find(
          (v) => v.labels.result === result && v.labels.source === 'read',
        )
        return found?.value ?? 0
      }
      // In shadow_read legacy serves; the comparison also reads the shadow, which this lock holds up.
      await blocker.query('BEGIN')
      await blocker.query('LOCK TABLE orders_v2 IN ACCESS EXCLUSIVE MODE')
      for (let i = 0; i < 5; i++) expect(await modeDal.get(6)).toMatchObject({ id: '6', status: 'new' })
      expect(await count('skipped')).toBe(4)
      await blocker.query('ROLLBACK')
      await connected.cutover.flush()
      expect(await count('match')).toBe(1)
      expect(await count('skipped')).toBe(4)
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined)
      blocker.release()
      await connected.cutover.close()
      await connected.pool.end()
    }
  })
})
