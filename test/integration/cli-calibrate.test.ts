import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCalibration } from '../../src/jobs/entry/calibrate.js'
import { runCli } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { ORDERS_CONFIG, connectCutover, setPhase, setupOrders } from '../support/orders-fixture.js'
import { startWriters } from '../support/writers.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'ana'])
let dir: string

interface CalibrationDoc {
  migration: string
  sampled: number
  noisy: boolean
  differences: number
  columns: {
    column: string
    differences: number
    example: { legacy: unknown; shadow: unknown }
    normaliser: string | null
  }[]
}

const ORDERS = ORDERS_CONFIG

/** Re-registers through the real CLI, from a config file; --force: these tests change the mapping in shadow_read on purpose. */
async function register(...migrations: Record<string, unknown>[]): Promise<void> {
  const path = join(dir, `cutover-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(path, JSON.stringify({ migrations }))
  const result = await cli('register', '--config', path, '--force')
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
}

async function lastCalibrateEvent(migration: string): Promise<Record<string, unknown> | undefined> {
  const rows = await db.query<{ details: Record<string, unknown>; actor: string }>(
    "SELECT details, actor FROM cutover.events WHERE migration = $1 AND kind = 'calibrate' ORDER BY id DESC LIMIT 1",
    [migration],
  )
  return rows[0] && { ...rows[0].details, actor: rows[0].actor }
}

beforeAll(async () => {
  dir = await tempDir('cutover-calibrate-')
  await setupOrders(db)
  // Microseconds in every timestamp, JSON with numbers, numeric scale changes (int cents to numeric(12,2)).
  await db.query(`INSERT INTO orders (id, customer_id, amount_cents, status, placed_at, meta)
                  SELECT g, gen_random_uuid()::text, g * 7, 'new', timestamptz '2026-01-02 03:04:05.123456+00' + g * interval '1.000777 s',
                         jsonb_build_object('g', g, 'r', g / 3.0) FROM generate_series(1, 4000) g;
                  ANALYZE orders;`)
  await setPhase(db.pool, 'dual_write')
  expect((await cli('backfill', 'orders_v2')).code).toBe(0)
  expect((await cli('verify', 'orders_v2')).code).toBe(0)
  await setPhase(db.pool, 'shadow_read')
})

describe('cutover calibrate', () => {
  it('refuses an unknown migration and a bad --sample with one line, exit 2, writing nothing', async () => {
    const before = await controlSnapshot(db.pool)
    const unknown = await cli('calibrate', 'nope')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe('cutover: unknown migration "nope"; list the registered ones with: cutover status\n')
    const bad = await cli('calibrate', 'orders_v2', '--sample', '0')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('cutover: --sample must be a whole number from 1 to 1000000, not 0\n')
    expect(await controlSnapshot(db.pool)).toBe(before)
  })

  it('finds a zero noise floor on 1000 live rows while DAL writers insert, update and delete, and records it', async () => {
    const { cutover, pool } = await connectCutover(db)
    const dal = await cutover.migration('orders_v2')
    const writers = startWriters(dal, { count: 4, existingKeys: 4000, firstNewKey: 100_000, seed: 9 })
    let result
    try {
      result = await cli('calibrate', 'orders_v2', '--json')
    } finally {
      const writes = await writers.stop()
      await cutover.close()
      await pool.end()
      expect(writes).toBeGreaterThan(0)
    }
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.json<CalibrationDoc>()).toEqual({
      migration: 'orders_v2',
      sampled: 1000,
      noisy: false,
      differences: 0,
      errors: 0,
      columns: [],
    })
    expect(await lastCalibrateEvent('orders_v2')).toMatchObject({
      noisy: false,
      sampled: 1000,
      columns: [],
      actor: 'ana',
    })
  })

  it('counts no noise where the shadow type is less precise: microseconds into timestamptz(3), float8 into real, numeric scale (the comparison casts both sides)', async () => {
    await db.query(`
      CREATE TABLE readings (id int PRIMARY KEY, at timestamptz NOT NULL, value float8, ratio numeric, label varchar(40), doc jsonb);
      CREATE TABLE readings_v2 (id int PRIMARY KEY, at timestamptz(3) NOT NULL, value real, ratio numeric(8,2), label text, doc json);
      INSERT INTO readings SELECT g, timestamptz '2026-01-02 03:04:05.123456+00' + g * interval '1.000777 s', g / 7.0, g / 3.0, 'x' || g || '  ',
                                  jsonb_build_object('b', g, 'a', g / 3.0) FROM generate_series(1, 2000) g;
      INSERT INTO readings_v2 SELECT * FROM readings;`)
    await register({
      name: 'readings',
      legacy: { table: 'public.readings', key: ['id'] },
      shadow: { table: 'public.readings_v2', key: ['id'] },
    })
    const registry = new Registry()
    const result = await runCalibration(db.pool, {
      schema: 'cutover',
      migration: 'readings',
      actor: 'test',
      sample: 500,
      registry,
    })
    expect(result).toMatchObject({ sampled: 500, noisy: false, differences: 0, columns: [] })
    const counted = (await registry.getSingleMetric('cutover_comparisons_total')?.get())?.values
    expect(counted).toEqual([{ value: 500, labels: { migration: 'readings', source: 'calibrate', result: 'match' } }])
  })

  it('names a noisy column with its count, an example and the normaliser; the ramp gate refuses it unless forced', async () => {
    // The shadow's status is padded with a varying number of spaces: a difference in representation only.
    await register({
      ...ORDERS,
      forward: { ...ORDERS.forward, status: "status || repeat(' ', floor(random() * 3)::int)" },
    })
    const noisy = await cli('calibrate', 'orders_v2', '--sample', '300', '--json')
    expect(noisy.code).toBe(1)
    const doc = noisy.json<CalibrationDoc>()
    expect(doc).toMatchObject({ migration: 'orders_v2', sampled: 300, noisy: true })
    expect(doc.differences).toBeGreaterThan(0)
    expect(doc.columns).toHaveLength(1)
    const [status] = doc.columns
    expect(status).toMatchObject({ column: 'status', differences: doc.differences, normaliser: 'trim' })
    expect(String(status?.example.legacy).trim()).toBe('new')
    expect(status?.example.legacy).not.toBe(status?.example.shadow)
    expect(await lastCalibrateEvent('orders_v2')).toMatchObject({
      noisy: true,
      sampled: 300,
      columns: [{ column: 'status', normaliser: 'trim' }],
    })

    const human = await cli('calibrate', 'orders_v2', '--sample', '300')
    expect(human.code).toBe(1)
    const lines = human.stdout.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^orders_v2: sampled 300 live rows: noise floor [1-9]\d*$/)
    expect(lines[1]).toMatch(
      /^ {2}status: [1-9]\d* row\(s\) differ, e\.g\. legacy "new *" vs shadow "new *"; fix: "compare": \{"status": "trim"\}$/,
    )
    expect(human.stderr).toBe(
      'cutover: orders_v2: the comparison finds differences in identical data; set the normalisers listed, run cutover register, then cutover calibrate orders_v2\n',
    )

    const refused = await cli('ramp', 'orders_v2', '5')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe(
      'cutover: orders_v2: gate "ramp" not met: the last calibration found comparison noise; set the normalisers it names, re-register, then run: cutover calibrate orders_v2\n',
    )
    const forced = await cli('ramp', 'orders_v2', '5', '--force', '--reason', 'test')
    expect(forced.code).toBe(0)
    expect((await cli('rollback', 'orders_v2', '--reason', 'test')).code).toBe(0)
    expect((await cli('advance', 'orders_v2', '--to', 'shadow_read', '--reason', 'test')).code).toBe(0)

    await register({
      ...ORDERS,
      forward: { ...ORDERS.forward, status: "status || repeat(' ', floor(random() * 3)::int)" },
      compare: { status: 'trim' },
    })
    const clean = await cli('calibrate', 'orders_v2', '--sample', '300', '--json')
    expect(clean.code).toBe(0)
    expect(clean.json<CalibrationDoc>()).toMatchObject({ sampled: 300, noisy: false, differences: 0, columns: [] })
    const ramped = await cli('ramp', 'orders_v2', '5', '--reason', 'test')
    expect(ramped.stderr).toBe('')
    expect(ramped.code).toBe(0)
    expect(await db.query("SELECT phase, read_percent FROM cutover.state WHERE migration = 'orders_v2'")).toEqual([
      { phase: 'ramp', read_percent: 5 },
    ])
  }, 240_000) // ten CLI runs; a loaded CI machine needs more than the default

  it("predicts the real path: the DAL's compared key reads and selects find the same noise, and the normaliser it names removes it there too", async () => {
    await db.query(`CREATE TABLE notes (id bigint PRIMARY KEY, title text NOT NULL);
                    CREATE TABLE notes_v2 (id bigint PRIMARY KEY, title text NOT NULL);`)
    const padded = {
      name: 'notes',
      legacy: { table: 'public.notes', key: ['id'] },
      shadow: { table: 'public.notes_v2', key: ['id'] },
      forward: { title: "title || repeat(' ', 1 + floor(random() * 2)::int)" },
    }
    await register(padded)
    await setPhase(db.pool, 'dual_write', 0, 'notes')
    // Key reads, or one select of any shape: both compare every read in shadow_read.
    const divergencesAfterReads = async (how: 'get' | 'select'): Promise<number> => {
      await db.query("DELETE FROM cutover.divergences WHERE migration = 'notes'")
      const { cutover, pool } = await connectCutover(db)
      try {
        const dal = await cutover.migration('notes')
        await cutover.watcher.poll()
        if (how === 'get') for (let id = 1; id <= 20; id++) await dal.get(id)
        else await dal.select((from) => from.select(['id', 'title']).where('id', '<=', 20))
        await cutover.flush()
      } finally {
        await cutover.close()
        await pool.end()
      }
      const [row] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM cutover.divergences WHERE migration = 'notes' AND source = 'read'",
      )
      return row?.n ?? 0
    }
    {
      const { cutover, pool } = await connectCutover(db)
      const dal = await cutover.migration('notes')
      await cutover.watcher.poll()
      for (let id = 1; id <= 20; id++) await dal.insert({ id, title: `note ${id}` })
      await cutover.close()
      await pool.end()
    }
    await setPhase(db.pool, 'shadow_read', 0, 'notes')
    const noisy = await cli('calibrate', 'notes', '--json')
    // Each evaluation pads with 1 or 2 spaces, so about half the rows differ, on both paths.
    const doc = noisy.json<CalibrationDoc>()
    expect(doc).toMatchObject({
      sampled: 20,
      noisy: true,
      columns: [{ column: 'title', differences: doc.differences, normaliser: 'trim' }],
    })
    expect(doc.differences).toBeGreaterThan(0)
    expect(await divergencesAfterReads('get')).toBeGreaterThan(0)
    expect(await divergencesAfterReads('select')).toBe(20)

    await register({ ...padded, compare: { title: 'trim' } })
    expect((await cli('calibrate', 'notes', '--json')).json<CalibrationDoc>()).toMatchObject({
      sampled: 20,
      noisy: false,
    })
    expect(await divergencesAfterReads('get')).toBe(0)
    expect(await divergencesAfterReads('select')).toBe(0)
  }, 240_000)

  it('quotes hostile table and column names, and exits 3 when the database cannot be reached', async () => {
    await db.query(`CREATE TABLE "We ird" ("id; DROP TABLE orders" int PRIMARY KEY, "Val""ue" text);
                    CREATE TABLE "We ird_v2" ("id; DROP TABLE orders" int PRIMARY KEY, "Val""ue" text);
                    INSERT INTO "We ird" SELECT g, 'v' || g FROM generate_series(1, 30) g;`)
    await register({
      name: 'weird',
      legacy: { table: 'public.We ird', key: ['id; DROP TABLE orders'] },
      shadow: { table: 'public.We ird_v2', key: ['id; DROP TABLE orders'] },
    })
    const result = await cli('calibrate', 'weird', '--json')
    expect(result.stderr).toBe('')
    expect(result.json<CalibrationDoc>()).toMatchObject({ sampled: 30, noisy: false })
    expect(await db.query('SELECT count(*)::int AS n FROM orders')).not.toEqual([{ n: 0 }])
    const unreachable = await runCli(['calibrate', 'weird', '--database-url', 'postgres://nobody@127.0.0.1:1/none'])
    expect(unreachable.code).toBe(3)
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('says when no normaliser fixes a column: a forward expression that is not a function of the row', async () => {
    await db.query(`CREATE TABLE tokens (id int PRIMARY KEY, owner text NOT NULL);
                    CREATE TABLE tokens_v2 (id int PRIMARY KEY, owner text NOT NULL, secret text NOT NULL);
                    INSERT INTO tokens SELECT g, 'o' || g FROM generate_series(1, 50) g;`)
    await register({
      name: 'tokens',
      legacy: { table: 'public.tokens', key: ['id'] },
      shadow: { table: 'public.tokens_v2', key: ['id'] },
      forward: { secret: 'md5(random()::text)' },
    })
    const result = await cli('calibrate', 'tokens', '--json')
    expect(result.code).toBe(1)
    expect(result.json<CalibrationDoc>()).toMatchObject({
      sampled: 50,
      noisy: true,
      differences: 50,
      columns: [{ column: 'secret', differences: 50, normaliser: null }],
    })
    const human = await cli('calibrate', 'tokens')
    expect(human.stdout).toContain('  secret: 50 row(s) differ, e.g. legacy "')
    expect(human.stdout).toContain('; no normaliser fixes it: its forward expression is not a function of the row\n')
  })

  it('counts a comparison that throws as result="error", records the calibration as noisy, and exits 1 with one line', async () => {
    await db.query(`CREATE TABLE payments (id int PRIMARY KEY, ref text NOT NULL);
                    CREATE TABLE payments_v2 (id int PRIMARY KEY, ref uuid NOT NULL);
                    INSERT INTO payments SELECT g, gen_random_uuid()::text FROM generate_series(1, 40) g;
                    INSERT INTO payments VALUES (41, 'not-a-uuid');`)
    await register({
      name: 'payments',
      legacy: { table: 'public.payments', key: ['id'] },
      shadow: { table: 'public.payments_v2', key: ['id'] },
      forward: { ref: 'ref::uuid' },
    })
    const registry = new Registry()
    const result = await runCalibration(db.pool, { schema: 'cutover', migration: 'payments', actor: 'test', registry })
    expect(result).toMatchObject({
      noisy: true,
      sampled: 0,
      errors: 1,
      error: 'invalid input syntax for type uuid: "not-a-uuid"',
    })
    const counted = (await registry.getSingleMetric('cutover_comparisons_total')?.get())?.values
    expect(counted).toEqual([{ value: 1, labels: { migration: 'payments', source: 'calibrate', result: 'error' } }])
    expect(await lastCalibrateEvent('payments')).toMatchObject({
      noisy: true,
      sampled: 0,
      error: 'invalid input syntax for type uuid: "not-a-uuid"',
    })
    const cliResult = await cli('calibrate', 'payments')
    expect(cliResult.code).toBe(1)
    expect(cliResult.stderr).toBe(
      'cutover: payments: calibration could not compare the sample: invalid input syntax for type uuid: "not-a-uuid"; fix the forward mapping (or the legacy rows it fails on), then run: cutover calibrate payments\n',
    )
  })
})
