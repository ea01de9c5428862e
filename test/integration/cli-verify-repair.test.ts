import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'ana', '--json'])

interface VerifyDoc {
  clean: boolean
  rowsCompared: number
  counts: Record<string, number>
  differences: { key: { id: unknown }; kind: string }[]
}

beforeAll(async () => {
  await setupOrders(db)
  await db.query(`INSERT INTO orders (id, customer_id, amount_cents, status, meta)
                  SELECT g, gen_random_uuid()::text, g, 'new', jsonb_build_object('g', g) FROM generate_series(1, 5000) g`)
  await setPhase(db.pool, 'dual_write')
  expect((await cli('backfill', 'orders_v2')).code).toBe(0)
})

describe('verify and repair through the CLI', () => {
  it('finds nothing on untouched data', async () => {
    const verify = await cli('verify', 'orders_v2')
    expect(verify.code).toBe(0)
    expect(verify.json<VerifyDoc>()).toMatchObject({ clean: true, rowsCompared: 5000 })
  })

  it('finds each corruption made directly in SQL with its kind, exits 1, and repair fixes them all', async () => {
    await db.query(`
      UPDATE orders_v2 SET status = 'changed' WHERE id = 10;
      UPDATE orders_v2 SET meta = NULL WHERE id = 20;
      DELETE FROM orders_v2 WHERE id = 30;
      INSERT INTO orders_v2 (id, customer, amount, status, placed_at) VALUES (99999, gen_random_uuid(), 1, 'extra', now());
      UPDATE orders_v2 SET id = 88888 WHERE id = 40;`)
    const verify = await cli('verify', 'orders_v2')
    expect(verify.code).toBe(1)
    const doc = verify.json<VerifyDoc>()
    expect(doc.clean).toBe(false)
    expect(doc.counts).toEqual({ mismatch: 2, missing_in_shadow: 2, missing_in_legacy: 2 })
    expect(doc.differences.map((d) => [String(d.key.id), d.kind]).sort()).toEqual([
      ['10', 'mismatch'],
      ['20', 'mismatch'],
      ['30', 'missing_in_shadow'],
      ['40', 'missing_in_shadow'],
      ['88888', 'missing_in_legacy'],
      ['99999', 'missing_in_legacy'],
    ])
    expect(verify.stderr.trim()).toBe(
      'cutover: orders_v2: verify found differences; fix them with: cutover repair orders_v2',
    )

    const dry = await cli('repair', 'orders_v2', '--dry-run')
    expect(dry.json()).toMatchObject({ rows: 6, dryRun: true })
    expect(await db.query('SELECT status FROM orders_v2 WHERE id = 10')).toEqual([{ status: 'changed' }])

    const listed = await cli('divergences', 'orders_v2')
    const divergences = listed.json<{ total: number; divergences: { key: { id: string }; columns: string[] }[] }>()
    expect(divergences.total).toBe(6)
    expect(divergences.divergences.find((d) => String(d.key.id) === '10')?.columns).toEqual(['status'])

    const repair = await cli('repair', 'orders_v2', '--reason', 'fix corruption')
    expect(repair.code).toBe(0)
    expect(repair.json()).toMatchObject({ migration: 'orders_v2', rows: 6, seconds: expect.any(Number) })
    const again = await cli('verify', 'orders_v2')
    expect(again.code).toBe(0)
    expect(again.json<VerifyDoc>()).toMatchObject({ clean: true, rowsCompared: 5000 })
    expect(await db.query('SELECT count(*)::int AS n FROM orders_v2')).toEqual([{ n: 5000 }])
  })
})
