/** Issue 24: a compared read served from the shadow judges what the caller receives, backward(shadow), against legacy. */
import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerMigrations } from '../../src/actions/register.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { setPhase, silentLogger } from '../support/orders-fixture.js'

const db = await freshDatabase()
let pool: pg.Pool
let cutover: Cutover
let registry: Registry
let users: MigrationDal

// The README's split as it was: a one-word name is read back from the shadow with a trailing space.
const SPLIT = {
  name: 'users_v2',
  legacy: { table: 'public.users', key: ['id'] },
  shadow: { table: 'public.users_v2', key: ['id'] },
  forward: {
    first_name: "split_part(full_name, ' ', 1)",
    last_name: "substr(full_name, length(split_part(full_name, ' ', 1)) + 2)",
  },
  backward: { full_name: "first_name || ' ' || last_name" },
  compare: { email: 'lower' },
  compareSample: 1,
}

async function counterValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name)
  const values = metric ? (await metric.get()).values : []
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0
}

async function divergences(): Promise<{ key: Record<string, string>; kind: string; detail: string | null }[]> {
  return db.query(
    "SELECT key, kind, detail FROM cutover.divergences WHERE migration = 'users_v2' AND source = 'read' ORDER BY key ->> 'id'",
  )
}

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(`
    CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, full_name text NOT NULL);
    CREATE TABLE users_v2 (id bigint PRIMARY KEY, email text NOT NULL, first_name text NOT NULL, last_name text NOT NULL);`)
  await registerMigrations(db.pool, [parseMigration(SPLIT)], { schema: 'cutover', actor: 'test' })
  await setPhase(db.pool, 'dual_write', 0, 'users_v2')
  pool = new pg.Pool({ connectionString: db.url, max: 4 })
  pool.on('error', () => undefined)
  registry = new Registry()
  cutover = await Cutover.connect({ pool, registry, logger: silentLogger, random: () => 0, fallbackPollMs: 100 })
  users = await cutover.migration('users_v2')
  await users.insert({ id: 1, email: 'ada@example.com', full_name: 'Ada Lovelace' })
  await users.insert({ id: 2, email: 'm@example.com', full_name: 'Madonna' })
  await setPhase(db.pool, 'ramp', 100, 'users_v2')
  await cutover.watcher.poll()
})
afterAll(async () => {
  await cutover.close()
  await pool.end()
})

describe('compared reads judge the row as the caller receives it', () => {
  it('a lossless row read from the shadow matches', async () => {
    expect(await users.get(1)).toMatchObject({ full_name: 'Ada Lovelace' })
    await cutover.flush()
    expect(await divergences()).toEqual([])
  })

  it('a lossy row read from the shadow counts a divergence naming the column', async () => {
    const before = await counterValue('cutover_divergences_total', { migration: 'users_v2', source: 'read' })
    expect(await users.get(2)).toMatchObject({ full_name: 'Madonna ' })
    await cutover.flush()
    expect(await divergences()).toEqual([
      { key: { id: '2' }, kind: 'mismatch', detail: 'differs in: full_name (read back)' },
    ])
    expect(await counterValue('cutover_divergences_total', { migration: 'users_v2', source: 'read' })).toBe(before + 1)
  })
})

describe('verify judges the legacy shape too', () => {
  // The read comparison above already opened the key's divergence: verify updates it with its own rows.
  it('names the lossy row with both values read back, and nothing else', async () => {
    const result = await runVerify(db.pool, { schema: 'cutover', migration: 'users_v2', actor: 'test' })
    expect(result).toMatchObject({
      rowsCompared: 2,
      clean: false,
      counts: { mismatch: 1, missing_in_shadow: 0, missing_in_legacy: 0 },
    })
    const rows = await db.query(
      "SELECT key, legacy_row, shadow_row FROM cutover.divergences WHERE migration = 'users_v2' AND repaired_at IS NULL",
    )
    expect(rows).toEqual([
      {
        key: { id: '2' },
        legacy_row: expect.objectContaining({ 'read_back.full_name': 'Madonna' }),
        shadow_row: expect.objectContaining({ 'read_back.full_name': 'Madonna ' }),
      },
    ])
  })
})
