import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installBypassNet, removeBypassNet } from '../../src/actions/bypass-net.js'
import { rollback } from '../../src/actions/rollback.js'
import { retire, unretire } from '../../src/actions/retire.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runRepair } from '../../src/jobs/entry/repair.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import type { Cutover } from '../../src/cutover/cutover.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const schema = 'cutover'
const migration = 'orders_v2'
const writerRole = `cron_${randomBytes(4).toString('hex')}`
let cutover: Cutover
let dalPool: pg.Pool
let registry: Registry
let dal: MigrationDal
let writer: pg.Client

/** Bypass writes counted so far, per op (the totals function folds the log first). */
async function counted(): Promise<Record<string, number>> {
  const rows = await db.query<{ op: string; writes: string; application_name: string; role: string }>(
    'SELECT * FROM cutover.bypass_write_totals() WHERE migration = $1',
    [migration],
  )
  return Object.fromEntries(rows.map((r) => [r.op, Number(r.writes)]))
}

async function netObjects(): Promise<{ triggers: number; functions: number }> {
  const [row] = await db.query<{ triggers: number; functions: number }>(`SELECT
    (SELECT count(*)::int FROM pg_trigger WHERE tgname LIKE 'cutover_bypass_%') AS triggers,
    (SELECT count(*)::int FROM pg_proc WHERE proname LIKE 'bypass_net_%' OR proname LIKE 'bypass_apply_%' OR proname LIKE 'bypass_trunc_%') AS functions`)
  return row as { triggers: number; functions: number }
}

async function resetCounts(): Promise<void> {
  await db.query('TRUNCATE cutover.bypass_write_log, cutover.bypass_writes')
}

/** One of each psql-style write, from a connection of another role that has no grant on the control schema. */
async function bypassWrites(base: number): Promise<void> {
  await writer.query(`INSERT INTO orders (id, customer_id, amount_cents) VALUES ($1, gen_random_uuid()::text, 500)`, [
    base,
  ])
  await writer.query(`UPDATE orders SET status = 'shipped' WHERE id = 1`)
  await writer.query(`DELETE FROM orders WHERE id = $1`, [base - 1000])
  const multi = await writer.query(`UPDATE orders SET amount_cents = amount_cents + 1 WHERE id BETWEEN 10 AND 14`)
  expect(multi.rowCount).toBe(5)
}

beforeAll(async () => {
  await setupOrders(db)
  await setPhase(db.pool, 'dual_write')
  ;({ cutover, pool: dalPool, registry } = await connectCutover(db))
  dal = await cutover.migration(migration)
  for (let id = 1; id <= 40; id++) await dal.insert(order(id))
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents) SELECT g, gen_random_uuid()::text, g FROM generate_series(1001, 1010) AS g`,
  )
  await runBackfill(db.pool, { schema, migration, actor: 'test', targetChunkMs: 0 })
  await db.query(
    `CREATE ROLE "${writerRole}" LOGIN PASSWORD 'pw'; GRANT USAGE ON SCHEMA public TO "${writerRole}"; GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO "${writerRole}"`,
  )
  const url = new URL(db.url)
  url.username = writerRole
  url.password = 'pw'
  writer = new pg.Client({ connectionString: url.toString(), application_name: 'nightly_fix' })
  await writer.connect()
})

afterAll(async () => {
  await writer?.end()
  await cutover?.close()
  await dalPool?.end()
  await db.query(`DROP OWNED BY "${writerRole}"; DROP ROLE "${writerRole}"`)
})

describe('bypass net', () => {
  it('in record mode counts each bypassing row once, by writer, and repair makes verify clean', async () => {
    await installBypassNet(db.pool, { schema, migration, actor: 'test', mode: 'record' })
    await resetCounts()
    await bypassWrites(2001)
    expect(await counted()).toEqual({ insert: 1, update: 6, delete: 1 })
    expect(await db.query('SELECT DISTINCT application_name, role FROM cutover.bypass_writes')).toEqual([
      { application_name: 'nightly_fix', role: writerRole },
    ])
    await cutover.refreshBypassWrites()
    const exported = (await registry.getSingleMetric('cutover_bypass_writes_total')?.get())?.values.map((v) => [
      v.labels.op,
      v.labels.application_name,
      v.labels.role,
      v.value,
    ])
    expect(exported?.sort()).toEqual([
      ['delete', 'nightly_fix', writerRole, 1],
      ['insert', 'nightly_fix', writerRole, 1],
      ['update', 'nightly_fix', writerRole, 6],
    ])
    expect(
      await db.query(
        `SELECT key ->> 'id' AS id, kind FROM cutover.divergences WHERE migration = $1 AND repaired_at IS NULL ORDER BY (key ->> 'id')::int`,
        [migration],
      ),
    ).toEqual([
      { id: '1', kind: 'mismatch' },
      ...[10, 11, 12, 13, 14].map((id) => ({ id: String(id), kind: 'mismatch' })),
      { id: '1001', kind: 'missing_in_legacy' },
      { id: '2001', kind: 'missing_in_shadow' },
    ])
    expect(await runVerify(db.pool, { schema, migration, actor: 'test' })).toMatchObject({ clean: false })
    await runRepair(db.pool, { schema, migration, actor: 'test' })
    expect(await runVerify(db.pool, { schema, migration, actor: 'test' })).toMatchObject({ clean: true })
  })

  it("in copy mode copies each bypassing row to the shadow in the writer's transaction, so verify is clean at once", async () => {
    await installBypassNet(db.pool, { schema, migration, actor: 'test', mode: 'copy' })
    await resetCounts()
    await bypassWrites(2002)
    expect(await counted()).toEqual({ insert: 1, update: 6, delete: 1 })
    expect(await db.query('SELECT detail FROM cutover.divergences WHERE repaired_at IS NULL')).toEqual([])
    expect(await runVerify(db.pool, { schema, migration, actor: 'test' })).toMatchObject({ clean: true })
  })

  it('refuses a TRUNCATE of legacy, which no row trigger sees, saying how to go on; nothing is emptied', async () => {
    await installBypassNet(db.pool, { schema, migration, actor: 'test', mode: 'copy' })
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')
    await expect(db.query('TRUNCATE orders')).rejects.toMatchObject({
      code: '55006',
      message:
        'TRUNCATE of orders refused: the bypass net of migration orders_v2 is installed, and the shadow table would keep every row',
      hint: expect.stringContaining('cutover net remove orders_v2'),
    })
    expect(await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).toEqual(before)
    expect(before[0]?.n).toBeGreaterThan(0)
  })

  it("never counts the DAL's own writes, in legacy- or shadow-authoritative phases, nor repair's", async () => {
    await resetCounts()
    for (const phase of ['dual_write', 'shadow_primary'] as const) {
      await setPhase(db.pool, phase)
      await cutover.watcher.poll()
      const base = phase === 'dual_write' ? 3000 : 4000
      for (let i = 0; i < 10; i++) {
        await dal.insert(order(base + i))
        await dal.update(base + i, { status: 'paid' }, { returning: false })
        await dal.upsert(order(base + i, { amount_cents: 7 }), { returning: 'key' })
      }
      await dal.insertMany([order(base + 50), order(base + 51), order(base + 52)])
      for (let i = 0; i < 5; i++) await dal.delete(base + i)
    }
    // shadow_primary: a delete whose key the shadow lacks still deletes legacy's row (the marker is read by that part too).
    await db.query('DELETE FROM orders_v2 WHERE id = 4009')
    await dal.delete(4009)
    // repair writes legacy from the authoritative shadow.
    await db.query("UPDATE orders_v2 SET status = 'drifted' WHERE id = 4008")
    await db.query(
      `INSERT INTO cutover.divergences (migration, key, source, kind) VALUES ($1, '{"id": "4008"}', 'verify', 'mismatch')`,
      [migration],
    )
    expect(await runRepair(db.pool, { schema, migration, actor: 'test' })).toMatchObject({ from: 'shadow', rows: 1 })
    expect(await counted()).toEqual({})
    await setPhase(db.pool, 'dual_write')
    await cutover.watcher.poll()
  })

  it('counts a raw statement that follows a DAL write in the same transaction', async () => {
    await resetCounts()
    const client = await dalPool.connect()
    try {
      await client.query('BEGIN')
      await dal.update(20, { status: 'in_tx' }, { tx: client })
      await client.query("UPDATE orders SET status = 'raw' WHERE id = 21")
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    expect(await counted()).toEqual({ update: 1 })
  })

  it('comes off with a rollback, and stays off through retire and unretire', async () => {
    expect(await netObjects()).toEqual({ triggers: 2, functions: 3 })
    const rolledBack = await rollback(db.pool, { schema, migration, actor: 'test', unleash: false })
    expect(rolledBack.bypassNet).toMatch(
      /removed; reinstall it when wanted with: cutover net install orders_v2 --mode copy/,
    )
    expect(await netObjects()).toEqual({ triggers: 0, functions: 0 })
    await resetCounts()
    await writer.query(`UPDATE orders SET status = 'after' WHERE id = 2`)
    expect(await counted()).toEqual({})

    await installBypassNet(db.pool, { schema, migration, actor: 'test', mode: 'record' })
    await setPhase(db.pool, 'complete')
    await retire(db.pool, { schema, migration, actor: 'test', force: true, alias: true })
    expect(await netObjects()).toEqual({ triggers: 0, functions: 0 })
    await unretire(db.pool, { schema, migration, actor: 'test' })
    expect(await netObjects()).toEqual({ triggers: 0, functions: 0 })
    expect(await db.query('SELECT count(*)::int AS n FROM cutover.bypass_nets')).toEqual([{ n: 0 }])
    expect((await removeBypassNet(db.pool, { schema, migration, actor: 'test' })).removed).toBeUndefined()
  })
})
