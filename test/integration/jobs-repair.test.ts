import { beforeAll, describe, expect, it } from 'vitest'
import { parseMigration } from '../../src/core/parse-config.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runRepair } from '../../src/jobs/entry/repair.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { registerMigrations } from '../../src/actions/register.js'
import { controlSnapshot, initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'

const db = await freshDatabase()
const schema = 'cutover'
const options = { schema, actor: 'test', targetChunkMs: 0 }

/** `name` (legacy) and `name_v2` (shadow, name renamed to full_name), 1000 rows, backfilled. */
async function accountsMigration(name: string): Promise<void> {
  await db.query(`
    CREATE TABLE ${name} (id int PRIMARY KEY, name text NOT NULL, email text, balance numeric(12,2));
    CREATE TABLE ${name}_v2 (id int PRIMARY KEY, full_name text NOT NULL, email text, balance numeric(12,2));
    INSERT INTO ${name} SELECT g, 'user ' || g, 'u' || g || '@example.com', g * 1.5 FROM generate_series(1, 1000) AS g;
  `)
  await registerMigrations(
    db.pool,
    [
      parseMigration({
        name,
        legacy: { table: name, key: ['id'] },
        shadow: { table: `${name}_v2`, key: ['id'] },
        forward: { full_name: 'name' },
        backward: { name: 'full_name' },
      }),
    ],
    { schema, actor: 'test' },
  )
  await runBackfill(db.pool, { ...options, migration: name, chunkRows: 250 })
}

/** Changes the shadow in each way verify notices, and records them with a verify. */
async function plantAndVerify(name: string): Promise<void> {
  await db.query(`
    UPDATE ${name}_v2 SET email = 'changed@example.com' WHERE id = 10;
    UPDATE ${name}_v2 SET balance = NULL WHERE id = 20;
    DELETE FROM ${name}_v2 WHERE id = 30;
    INSERT INTO ${name}_v2 VALUES (5000, 'extra', 'extra@example.com', 1);
    UPDATE ${name}_v2 SET id = 7000 WHERE id = 40;
  `)
  expect(await runVerify(db.pool, { ...options, migration: name, chunkRows: 300 })).toMatchObject({ clean: false })
}

/** Both tables' rows in the legacy shape, as text: equal means the two sides agree. */
async function sides(name: string): Promise<{ legacy: string; shadow: string }> {
  const [row] = await db.query<{ legacy: string; shadow: string }>(`SELECT
    (SELECT coalesce(string_agg(format('%s|%s|%s|%s', id, name, email, balance), ',' ORDER BY id), '') FROM ${name}) AS legacy,
    (SELECT coalesce(string_agg(format('%s|%s|%s|%s', id, full_name, email, balance), ',' ORDER BY id), '') FROM ${name}_v2) AS shadow`)
  return row ?? { legacy: '', shadow: '' }
}

const ACTIONS_FROM_LEGACY = [
  { key: { id: 10 }, action: 'copy', kind: 'mismatch' },
  { key: { id: 20 }, action: 'copy', kind: 'mismatch' },
  { key: { id: 30 }, action: 'copy', kind: 'missing_in_shadow' },
  { key: { id: 40 }, action: 'copy', kind: 'missing_in_shadow' },
  { key: { id: 5000 }, action: 'delete', kind: 'missing_in_legacy' },
  { key: { id: 7000 }, action: 'delete', kind: 'missing_in_legacy' },
]

beforeAll(async () => {
  await initControl(db.pool)
})

describe('repair', () => {
  it('lists its actions in a dry run and writes nothing', async () => {
    await accountsMigration('dry')
    await plantAndVerify('dry')
    const before = { tables: await sides('dry'), control: await controlSnapshot(db.pool) }
    const result = await runRepair(db.pool, { schema, migration: 'dry', actor: 'test', dryRun: true })
    expect(result).toMatchObject({ migration: 'dry', rows: 6, from: 'legacy', dryRun: true })
    expect(result.actions).toEqual(ACTIONS_FROM_LEGACY)
    expect({ tables: await sides('dry'), control: await controlSnapshot(db.pool) }).toEqual(before)
  })

  it('copies from the authoritative legacy side, deletes what it lacks, closes each divergence, and a second verify is clean', async () => {
    await accountsMigration('fixed')
    await plantAndVerify('fixed')
    const result = await runRepair(db.pool, { schema, migration: 'fixed', actor: 'operator', reason: 'after verify' })
    expect(result).toMatchObject({ rows: 6, from: 'legacy', dryRun: false })
    expect(result.actions).toEqual(ACTIONS_FROM_LEGACY)
    const { legacy, shadow } = await sides('fixed')
    expect(shadow).toBe(legacy)
    expect(
      await db.query(
        "SELECT count(*)::int AS open, count(*) FILTER (WHERE repaired_by = 'operator')::int AS closed FROM cutover.divergences WHERE migration = 'fixed'",
      ),
    ).toEqual([{ open: 6, closed: 6 }])
    expect(
      await db.query(
        "SELECT count(*)::int AS n FROM cutover.divergences WHERE migration = 'fixed' AND repaired_at IS NULL",
      ),
    ).toEqual([{ n: 0 }])
    expect(
      await db.query(
        "SELECT actor, reason, details ->> 'rows' AS rows FROM cutover.events WHERE migration = 'fixed' AND kind = 'repair'",
      ),
    ).toEqual([{ actor: 'operator', reason: 'after verify', rows: '6' }])
    expect(await runVerify(db.pool, { ...options, migration: 'fixed', chunkRows: 300 })).toMatchObject({
      clean: true,
      rowsCompared: 1000,
    })
    expect(await runRepair(db.pool, { schema, migration: 'fixed', actor: 'operator' })).toMatchObject({
      rows: 0,
      actions: [],
    })
  })

  it('copies from the shadow when the state makes it authoritative, through the backward mapping', async () => {
    await accountsMigration('shadow_side')
    await plantAndVerify('shadow_side')
    await db.query("UPDATE cutover.state SET authority = 'shadow' WHERE migration = 'shadow_side'")
    const result = await runRepair(db.pool, { schema, migration: 'shadow_side', actor: 'test' })
    expect(result.from).toBe('shadow')
    expect(result.actions.map((a) => [a.key.id, a.action])).toEqual([
      [10, 'copy'],
      [20, 'copy'],
      [30, 'delete'],
      [40, 'delete'],
      [5000, 'copy'],
      [7000, 'copy'],
    ])
    const { legacy, shadow } = await sides('shadow_side')
    expect(legacy).toBe(shadow)
    expect(
      await db.query('SELECT id, name, email, balance FROM shadow_side WHERE id IN (10, 20, 5000, 7000) ORDER BY id'),
    ).toEqual([
      { id: 10, name: 'user 10', email: 'changed@example.com', balance: '15.00' },
      { id: 20, name: 'user 20', email: 'u20@example.com', balance: null },
      { id: 5000, name: 'extra', email: 'extra@example.com', balance: '1.00' },
      { id: 7000, name: 'user 40', email: 'u40@example.com', balance: '60.00' },
    ])
    expect(await runVerify(db.pool, { ...options, migration: 'shadow_side' })).toMatchObject({
      clean: true,
      rowsCompared: 1000,
    })
  })

  it('takes --from over the authority', async () => {
    await accountsMigration('explicit')
    await plantAndVerify('explicit')
    await db.query("UPDATE cutover.state SET authority = 'shadow' WHERE migration = 'explicit'")
    expect(await runRepair(db.pool, { schema, migration: 'explicit', actor: 'test', from: 'legacy' })).toMatchObject({
      from: 'legacy',
      rows: 6,
    })
    const { legacy, shadow } = await sides('explicit')
    expect(shadow).toBe(legacy)
    expect(await db.query('SELECT count(*)::int AS n FROM explicit')).toEqual([{ n: 1000 }])
  })

  it('repairs a divergence a rejected write recorded', async () => {
    await accountsMigration('written')
    await db.query(`
      INSERT INTO written VALUES (1001, 'late', 'late@example.com', 2);
      INSERT INTO cutover.divergences (migration, key, source, kind, detail) VALUES ('written', '{"id": 1001}', 'write', 'write_rejected', 'shadow refused');
    `)
    const result = await runRepair(db.pool, { schema, migration: 'written', actor: 'test' })
    expect(result.actions).toEqual([{ key: { id: 1001 }, action: 'copy', kind: 'write_rejected' }])
    expect(await db.query('SELECT id, full_name FROM written_v2 WHERE id = 1001')).toEqual([
      { id: 1001, full_name: 'late' },
    ])
  })
})
