/**
 * Verify compares typed values in SQL where typed equality judges as the read
 * comparison's text does, and the text elsewhere. These values are equal as
 * typed values but differ as text, so verify must count each as a mismatch,
 * as it did when it compared the text of every row.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { parseMigration } from '../../src/core/parse-config.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { registerMigrations } from '../../src/actions/register.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { setPhase } from '../support/orders-fixture.js'

const db = await freshDatabase()

const COLUMNS = `
  num numeric, iv interval, ci citext, folded text COLLATE case_blind, folded_vc varchar(20) COLLATE case_blind,
  folded_arr text[] COLLATE case_blind, num_arr numeric[], flt float8, fixed numeric(10,2), ts timestamptz, doc jsonb, vc varchar(20)`

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(`CREATE EXTENSION IF NOT EXISTS citext;
    CREATE COLLATION case_blind (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`)
  await db.query(
    `CREATE TABLE typed (id int8 PRIMARY KEY, ${COLUMNS}); CREATE TABLE typed_v2 (id int8 PRIMARY KEY, ${COLUMNS})`,
  )
  await db.query(`INSERT INTO typed VALUES
    (1, 1.0, '1 day', 'Abc', 'Abc', 'Abc', '{Abc}', '{1.0}', '-0', 1.5, '2026-01-01 00:00:00.5+00', '{"a": 1.0}', 'abc'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'NaN', NULL, NULL, NULL, NULL)`)
  await registerMigrations(
    db.pool,
    [
      parseMigration({
        name: 'typed_v2',
        legacy: { table: 'typed', key: ['id'] },
        shadow: { table: 'typed_v2', key: ['id'] },
      }),
    ],
    { schema: 'cutover', actor: 'test' },
  )
  await setPhase(db.pool, 'dual_write', undefined, 'typed_v2')
  await runBackfill(db.pool, { schema: 'cutover', migration: 'typed_v2', actor: 'test' })
})

const verify = () => runVerify(db.pool, { schema: 'cutover', migration: 'typed_v2', actor: 'test' })

describe('verify judges equality as the read comparison text does', () => {
  it('is clean on the backfilled copy, with -0, NaN and NULLs', async () => {
    expect((await verify()).counts).toEqual({ mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 })
  })

  it('counts values equal as typed values but written differently as mismatches, and records both sides as text', async () => {
    // Each: equal by `=` of the column's type (or its collation), different as text.
    const changes: Record<string, [string, string]> = {
      num: ['1.00', '1.0'],
      iv: ["'24 hours'", "'1 day'"],
      ci: ["'abc'", "'Abc'"],
      folded: ["'abc'", "'Abc'"],
      folded_vc: ["'ABC'", "'Abc'"],
      folded_arr: ["'{abc}'", "'{Abc}'"],
      num_arr: ["'{1.00}'", "'{1.0}'"],
    }
    for (const [column, [changed, original]] of Object.entries(changes)) {
      await db.query(`UPDATE typed_v2 SET ${column} = ${changed} WHERE id = 1`)
      const result = await verify()
      expect({ column, counts: result.counts }).toEqual({
        column,
        counts: { mismatch: 1, missing_in_shadow: 0, missing_in_legacy: 0 },
      })
      const recorded = await db.query(
        `SELECT legacy_row ->> $1 AS legacy, shadow_row ->> $1 AS shadow FROM cutover.divergences WHERE repaired_at IS NULL AND key = '{"id": "1"}'`,
        [column],
      )
      const stored = await db.query(
        `SELECT l.${column}::text AS legacy, s.${column}::text AS shadow FROM typed l JOIN typed_v2 s USING (id) WHERE id = 1`,
      )
      expect({ column, recorded }).toEqual({ column, recorded: stored })
      await db.query(`UPDATE typed_v2 SET ${column} = ${original} WHERE id = 1; DELETE FROM cutover.divergences`)
    }
    expect((await verify()).clean).toBe(true)
  })

  it('finds real changes in the columns compared typed: float, fixed numeric, timestamp, jsonb, varchar', async () => {
    const changes: Record<string, [string, string]> = {
      flt: ["'1e-300'", "'-0'"],
      fixed: ['1.51', '1.5'],
      ts: ["'2026-01-01 00:00:00.500001+00'", "'2026-01-01 00:00:00.5+00'"],
      doc: [`'{"a": 1.01}'`, `'{"a": 1.0}'`],
      vc: ["'abC'", "'abc'"],
    }
    for (const [column, [changed, original]] of Object.entries(changes)) {
      await db.query(`UPDATE typed_v2 SET ${column} = ${changed} WHERE id = 1`)
      expect({ column, counts: (await verify()).counts }).toEqual({
        column,
        counts: { mismatch: 1, missing_in_shadow: 0, missing_in_legacy: 0 },
      })
      await db.query(`UPDATE typed_v2 SET ${column} = ${original} WHERE id = 1; DELETE FROM cutover.divergences`)
    }
    expect((await verify()).clean).toBe(true)
  })
})
