/**
 * Any writer picks its own application_name, and it became a label of
 * cutover_bypass_writes_total (issue 23, finding 5). The exported labels are
 * bounded whatever the writers do and whatever the totals hold: at most
 * MAX_WRITERS writers per migration, each value at most MAX_LABEL_CHARS long,
 * every other writer counted under "(other)", and no write lost from the sums.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installBypassNet } from '../../src/actions/bypass-net.js'
import type { Cutover } from '../../src/cutover/cutover.js'
import { MAX_LABEL_CHARS, MAX_WRITERS, OTHER_WRITERS } from '../../src/metrics/bypass-write-export.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const writerRole = `writer_${randomBytes(4).toString('hex')}`
let cutover: Cutover
let dalPool: pg.Pool
let registry: Registry
let writer: pg.Client

interface Exported {
  migration: string
  applicationName: string
  role: string
  op: string
  value: number
}

async function exported(migration: string): Promise<Exported[]> {
  await cutover.refreshBypassWrites()
  const values = (await registry.getSingleMetric('cutover_bypass_writes_total')?.get())?.values ?? []
  return values
    .filter((v) => v.labels.migration === migration)
    .map((v) => ({
      migration,
      applicationName: String(v.labels.application_name),
      role: String(v.labels.role),
      op: String(v.labels.op),
      value: v.value,
    }))
}

beforeAll(async () => {
  await setupOrders(db)
  await setPhase(db.pool, 'dual_write')
  ;({ cutover, pool: dalPool, registry } = await connectCutover(db))
  await db.query(`INSERT INTO orders (id, customer_id, amount_cents) VALUES (1, gen_random_uuid()::text, 100)`)
  await installBypassNet(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'test', mode: 'record' })
  await db.query(
    `CREATE ROLE "${writerRole}" LOGIN PASSWORD 'pw'; GRANT USAGE ON SCHEMA public TO "${writerRole}"; GRANT SELECT, UPDATE ON orders TO "${writerRole}"`,
  )
  const url = new URL(db.url)
  url.username = writerRole
  url.password = 'pw'
  writer = new pg.Client({ connectionString: url.toString() })
  await writer.connect()
})

afterAll(async () => {
  await writer?.end()
  await cutover?.close()
  await dalPool?.end()
  await db.query(`DROP OWNED BY "${writerRole}"; DROP ROLE "${writerRole}"`)
})

describe('cutover_bypass_writes_total labels', { timeout: 120_000 }, () => {
  it('a writer that changes application_name before each of 40 writes, 300 characters each, makes at most 20 bounded writers and "(other)"', async () => {
    for (let i = 0; i < 40; i++) {
      await writer.query(`SET application_name = '${String(i).padStart(2, '0')}-${'w'.repeat(298)}'`)
      await writer.query('UPDATE orders SET amount_cents = amount_cents + 1 WHERE id = 1')
    }
    const series = await exported('orders_v2')
    const names = new Set(series.map((s) => s.applicationName))
    expect(names.size).toBeLessThanOrEqual(MAX_WRITERS + 1)
    expect(names).toContain(OTHER_WRITERS)
    for (const s of series) {
      expect(s.applicationName.length).toBeLessThanOrEqual(MAX_LABEL_CHARS)
      expect(s.role.length).toBeLessThanOrEqual(MAX_LABEL_CHARS)
    }
    expect(series.filter((s) => s.applicationName === OTHER_WRITERS).every((s) => s.role === OTHER_WRITERS)).toBe(true)
    expect(series.reduce((sum, s) => sum + s.value, 0)).toBe(40)
  })

  it('whatever the totals hold (names of 300 characters, astral ones too), each exported value is cut to 64 characters, whole characters, and no write is lost', async () => {
    // Rows as any writer of the log could leave them (a net of another version, a direct call of its function).
    await db.query(`INSERT INTO cutover.bypass_write_log (migration, application_name, role, op)
      SELECT 'orders_v3', repeat('a', 300), repeat('r', 100), 'insert' FROM generate_series(1, 3)
      UNION ALL SELECT 'orders_v3', repeat('a', 299) || 'b', repeat('r', 100), 'insert'
      UNION ALL SELECT 'orders_v3', repeat('\u{1F600}', 100), 'ana', 'delete'`)
    const series = await exported('orders_v3')
    expect(series.map((s) => [s.applicationName, s.role, s.op, s.value]).sort()).toEqual([
      ['a'.repeat(64), 'r'.repeat(64), 'insert', 4],
      ['\u{1F600}'.repeat(64), 'ana', 'delete', 1],
    ])
  })
})
