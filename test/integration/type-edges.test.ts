import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { Registry } from 'prom-client'
import { Cutover } from '../../src/cutover/cutover.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { runRepair } from '../../src/jobs/entry/repair.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { registerMigrations } from '../../src/actions/register.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { setPhase, silentLogger } from '../support/orders-fixture.js'

const db = await freshDatabase()
let cutover: Cutover
let pool: pg.Pool

const COLUMNS = `
  num numeric, flt float8, big_text text, coll_text text COLLATE "C", bin bytea, bits bit varying(16),
  arr int8[], ts timestamptz, doc jsonb, big int8, exact numeric(40,20)`

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(
    `CREATE TABLE edges (id int8 PRIMARY KEY, ${COLUMNS}); CREATE TABLE edges_v2 (id int8 PRIMARY KEY, ${COLUMNS})`,
  )
  await db.query(`INSERT INTO edges VALUES
    (1, 'NaN', '-0', repeat('x', 5000), 'Zebra', '\\x00ff10', B'1011', ARRAY[9007199254740993, -1], '2026-01-01 00:00:00.123456+00', '{"a": 1.0, "b": [1, 2.50], "big": 12345678901234567890}', 9007199254740993, 12345678901234567890.12345678901234567890),
    (2, 'Infinity', 'NaN', repeat('é', 3000), 'apple', '', B'', '{}', '-infinity', '{"n": 1}', -9223372036854775808, '0.00000000000000000001'),
    (3, '-Infinity', 'Infinity', '', 'Äpfel', NULL, NULL, ARRAY[NULL]::int8[], 'infinity', '{"z": null}', 0, NULL)`)
  await registerMigrations(
    db.pool,
    [
      parseMigration({
        name: 'edges_v2',
        legacy: { table: 'edges', key: ['id'] },
        shadow: { table: 'edges_v2', key: ['id'] },
      }),
    ],
    { schema: 'cutover', actor: 'test' },
  )
  await setPhase(db.pool, 'dual_write', undefined, 'edges_v2')
  await runBackfill(db.pool, { schema: 'cutover', migration: 'edges_v2', actor: 'test' })
  await setPhase(db.pool, 'shadow_read', undefined, 'edges_v2')
  pool = new pg.Pool({ connectionString: db.url, max: 4 })
  cutover = await Cutover.connect({
    pool,
    registry: new Registry(),
    logger: silentLogger,
    random: () => 0,
    comparisons: { maxInFlight: 100 },
  })
})
afterAll(async () => {
  await cutover.close()
  await pool.end()
})

const verify = () => runVerify(db.pool, { schema: 'cutover', migration: 'edges_v2', actor: 'test' })

describe('type edge cases', () => {
  it('equal stays equal in verify, key reads and compared selects: NaN, ±Infinity, -0, out-of-line values, collations, bytea, bit, arrays, infinite timestamps, jsonb, int8 beyond 2^53', async () => {
    expect((await verify()).clean).toBe(true)
    const dal = await cutover.migration('edges_v2')
    for (const id of [1, 2, 3]) await dal.get(id)
    await dal.select((from) => from.selectAll())
    await cutover.flush()
    expect(await db.query('SELECT key FROM cutover.divergences')).toEqual([])
  })

  it('jsonb numbers written differently (1.0 and 1, 1.23e19 and 12300…), and float -0 and 0, are equal', async () => {
    await db.query(
      `UPDATE edges_v2 SET doc = '{"a": 1, "b": [1, 2.5], "big": 1.234567890123456789e19}', flt = '0' WHERE id = 1`,
    )
    expect((await verify()).clean).toBe(true)
    const dal = await cutover.migration('edges_v2')
    await dal.get(1)
    await dal.select((from) => from.selectAll().where('id', '=', 1))
    await cutover.flush()
    expect(await db.query('SELECT key FROM cutover.divergences')).toEqual([])
  })

  it('finds a real change in each column (1 µs, the 20th digit of a jsonb number) in verify, key reads and compared selects, and repair restores it exactly', async () => {
    const changes: Record<string, string> = {
      num: "'1'",
      flt: "'1.5'",
      big_text: "repeat('x', 4999) || 'y'",
      coll_text: "'zebra'",
      bin: "'\\x00ff11'",
      bits: "B'1010'",
      arr: 'ARRAY[9007199254740992, -1]',
      ts: "'2026-01-01 00:00:00.123457+00'",
      doc: `'{"a": 1.0, "b": [1, 2.50], "big": 12345678901234567891}'`,
      big: '9007199254740992',
      exact: '12345678901234567890.12345678901234567891',
    }
    for (const [column, value] of Object.entries(changes)) {
      await db.query(`UPDATE edges_v2 SET ${column} = ${value} WHERE id = 1`)
      const result = await verify()
      expect({ column, counts: result.counts }).toEqual({
        column,
        counts: { mismatch: 1, missing_in_shadow: 0, missing_in_legacy: 0 },
      })
      const dal = await cutover.migration('edges_v2')
      await dal.get(1)
      await cutover.flush()
      expect({
        column,
        found: (await db.query("SELECT source FROM cutover.divergences WHERE repaired_at IS NULL AND source = 'read'"))
          .length,
      }).toEqual({ column, found: 1 })
      // A compared select of any shape finds the same change, without decoding either side in Node first.
      await db.query("DELETE FROM cutover.divergences WHERE source = 'read'")
      await dal.select((from) => from.select(['id', column as 'id']).where('id', '<=', 2))
      await cutover.flush()
      expect({
        column,
        select: (await db.query<{ key: unknown }>("SELECT key FROM cutover.divergences WHERE source = 'read'")).map(
          (r) => r.key,
        ),
      }).toEqual({ column, select: [{ id: '1' }] })
      await runRepair(db.pool, { schema: 'cutover', migration: 'edges_v2', actor: 'test' })
      expect({ column, clean: (await verify()).clean }).toEqual({ column, clean: true })
    }
    const same = await db.query<{ same: boolean }>(
      'SELECT bool_and((l.*)::text = (s.*)::text) AS same FROM edges l JOIN edges_v2 s USING (id)',
    )
    expect(same).toEqual([{ same: true }])
  })
})
