/** Issue 24: a DAL write whose row would read back different through backward(forward(row)) is caught in its own statement. */
import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerMigrations } from '../../src/actions/register.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { setPhase, silentLogger } from '../support/orders-fixture.js'

const db = await freshDatabase()
let pool: pg.Pool
let cutover: Cutover
let registry: Registry
let lossy: MigrationDal
let lossless: MigrationDal

const split = (name: string, table: string, backward: string) => ({
  name,
  legacy: { table: `public.${table}`, key: ['id'] },
  shadow: { table: `public.${table}_v2`, key: ['id'] },
  forward: {
    first_name: "split_part(full_name, ' ', 1)",
    last_name: "substr(full_name, length(split_part(full_name, ' ', 1)) + 2)",
  },
  backward: { full_name: backward },
})

async function counted(migration: string): Promise<number> {
  const metric = registry.getSingleMetric('cutover_round_trip_writes_total')
  const values = metric ? (await metric.get()).values : []
  return values.filter((v) => v.labels.migration === migration).reduce((sum, v) => sum + v.value, 0)
}

async function recorded(migration: string): Promise<unknown[]> {
  return db.query(
    "SELECT key, source, kind, legacy_row, shadow_row, detail FROM cutover.divergences WHERE migration = $1 ORDER BY key ->> 'id'",
    [migration],
  )
}

beforeAll(async () => {
  await initControl(db.pool)
  for (const table of ['users', 'people']) {
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, full_name text NOT NULL);
      CREATE TABLE ${table}_v2 (id bigint PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL);`)
  }
  await registerMigrations(
    db.pool,
    [
      parseMigration(split('users_v2', 'users', "first_name || ' ' || last_name")),
      parseMigration(split('people_v2', 'people', "concat_ws(' ', first_name, nullif(last_name, ''))")),
    ],
    { schema: 'cutover', actor: 'test' },
  )
  await setPhase(db.pool, 'dual_write', 0, 'users_v2')
  await setPhase(db.pool, 'dual_write', 0, 'people_v2')
  pool = new pg.Pool({ connectionString: db.url, max: 4 })
  pool.on('error', () => undefined)
  registry = new Registry()
  cutover = await Cutover.connect({ pool, registry, logger: silentLogger, fallbackPollMs: 100 })
  lossy = await cutover.migration('users_v2')
  lossless = await cutover.migration('people_v2')
})
afterAll(async () => {
  await cutover.close()
  await pool.end()
})

describe('the write round-trip counter', () => {
  it('does not move for rows that read back unchanged, and the caller gets its row as before', async () => {
    expect(await lossy.insert({ id: 1, full_name: 'Ada Lovelace' })).toEqual({ id: '1', full_name: 'Ada Lovelace' })
    expect(await lossless.insert({ id: 1, full_name: 'Madonna' })).toEqual({ id: '1', full_name: 'Madonna' })
    await lossless.insertMany([
      { id: 2, full_name: 'Cher' },
      { id: 3, full_name: 'Mary Ann Smith' },
    ])
    await cutover.flush()
    expect(await counted('users_v2')).toBe(0)
    expect(await counted('people_v2')).toBe(0)
    expect(await recorded('users_v2')).toEqual([])
    expect(await recorded('people_v2')).toEqual([])
  })

  it('moves for a lossy write, in every returning mode, and records the key with both values', async () => {
    expect(await lossy.insert({ id: 2, full_name: 'Madonna' })).toEqual({ id: '2', full_name: 'Madonna' })
    expect(await lossy.upsert({ id: 3, full_name: 'Cher' }, { returning: 'key' })).toEqual({ id: '3' })
    expect(await lossy.update(1, { full_name: 'Prince' }, { returning: false })).toBeUndefined()
    await cutover.flush()
    expect(await counted('users_v2')).toBe(3)
    const detail = 'round trip changes: full_name'
    expect(await recorded('users_v2')).toEqual([
      {
        key: { id: '1' },
        source: 'write',
        kind: 'mismatch',
        legacy_row: { full_name: 'Prince' },
        shadow_row: { full_name: 'Prince ' },
        detail,
      },
      {
        key: { id: '2' },
        source: 'write',
        kind: 'mismatch',
        legacy_row: { full_name: 'Madonna' },
        shadow_row: { full_name: 'Madonna ' },
        detail,
      },
      {
        key: { id: '3' },
        source: 'write',
        kind: 'mismatch',
        legacy_row: { full_name: 'Cher' },
        shadow_row: { full_name: 'Cher ' },
        detail,
      },
    ])
  })
})
