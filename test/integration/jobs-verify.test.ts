import { Registry } from 'prom-client'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseMigration } from '../../src/core/parse-config.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { JobFailed } from '../../src/jobs/harness/job-failed.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { registerMigrations } from '../../src/actions/register.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'

const db = await freshDatabase()
const schema = 'cutover'
const options = { schema, actor: 'test', targetChunkMs: 0 }

async function register(config: Record<string, unknown>): Promise<void> {
  await registerMigrations(db.pool, [parseMigration(config)], { schema, actor: 'test' })
}

/** `name` (legacy) and `name_v2` (shadow, name renamed to full_name), `rows` rows with ids 1..rows, backfilled. */
async function accountsMigration(name: string, rows: number): Promise<void> {
  await db.query(`
    CREATE TABLE ${name} (id int PRIMARY KEY, name text NOT NULL, email text, balance numeric(12,2), doc jsonb);
    CREATE TABLE ${name}_v2 (id int PRIMARY KEY, full_name text NOT NULL, email text, balance numeric(12,2), doc jsonb);
    INSERT INTO ${name} SELECT g, 'user ' || g, 'u' || g || '@example.com', g * 1.5, jsonb_build_object('a', g, 'b', 'x')
      FROM generate_series(1, ${rows}) AS g;
  `)
  await register({
    name,
    legacy: { table: name, key: ['id'] },
    shadow: { table: `${name}_v2`, key: ['id'] },
    forward: { full_name: 'name' },
    backward: { name: 'full_name' },
  })
  await runBackfill(db.pool, { ...options, migration: name, chunkRows: 500 })
}

/** Changes the shadow in each way verify must notice. */
async function plantDifferences(name: string): Promise<void> {
  await db.query(`
    UPDATE ${name}_v2 SET email = 'changed@example.com' WHERE id = 10;
    UPDATE ${name}_v2 SET balance = NULL WHERE id = 20;
    DELETE FROM ${name}_v2 WHERE id = 30;
    INSERT INTO ${name}_v2 VALUES (5000, 'extra', NULL, NULL, NULL);
    UPDATE ${name}_v2 SET id = 7000 WHERE id = 40;
  `)
}

const PLANTED = [
  { key: { id: 10 }, kind: 'mismatch' },
  { key: { id: 20 }, kind: 'mismatch' },
  { key: { id: 30 }, kind: 'missing_in_shadow' },
  { key: { id: 40 }, kind: 'missing_in_shadow' },
  { key: { id: 5000 }, kind: 'missing_in_legacy' },
  { key: { id: 7000 }, kind: 'missing_in_legacy' },
]

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const found = (await registry.getSingleMetric(name)?.get())?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )
  return found?.value ?? 0
}

beforeAll(async () => {
  await initControl(db.pool)
})

describe('verify', () => {
  it('finds nothing on untouched data and records a clean verify event', async () => {
    await accountsMigration('untouched', 2000)
    const result = await runVerify(db.pool, { ...options, migration: 'untouched', chunkRows: 300, workers: 2 })
    expect(result).toMatchObject({
      migration: 'untouched',
      rowsCompared: 2000,
      clean: true,
      counts: { mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 },
      differences: [],
    })
    expect(await db.query("SELECT count(*)::int AS n FROM cutover.divergences WHERE migration = 'untouched'")).toEqual([
      { n: 0 },
    ])
    const events = await db.query(
      "SELECT actor, details FROM cutover.events WHERE migration = 'untouched' AND kind = 'verify' ORDER BY id",
    )
    expect(events).toEqual([
      {
        actor: 'test',
        details: expect.objectContaining({
          clean: true,
          rowsCompared: 2000,
          counts: { mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 },
        }),
      },
    ])
  })

  it('finds a changed value, a NULLed value, a deleted row, an extra row and a changed key, each with its kind', async () => {
    await accountsMigration('planted', 2000)
    await plantDifferences('planted')
    const registry = new Registry()
    const result = await runVerify(db.pool, { ...options, migration: 'planted', chunkRows: 300, workers: 3, registry })
    expect(result).toMatchObject({
      rowsCompared: 2002,
      clean: false,
      counts: { mismatch: 2, missing_in_shadow: 2, missing_in_legacy: 2 },
    })
    expect(result.differences).toEqual(PLANTED)
    const recorded = await db.query(`
      SELECT key, source, kind, legacy_row ->> 'email' AS legacy_email, shadow_row ->> 'email' AS shadow_email,
             legacy_row IS NULL AS no_legacy, shadow_row IS NULL AS no_shadow
        FROM cutover.divergences WHERE migration = 'planted' AND repaired_at IS NULL ORDER BY (key ->> 'id')::int`)
    expect(recorded).toEqual([
      {
        key: { id: '10' },
        source: 'verify',
        kind: 'mismatch',
        legacy_email: 'u10@example.com',
        shadow_email: 'changed@example.com',
        no_legacy: false,
        no_shadow: false,
      },
      {
        key: { id: '20' },
        source: 'verify',
        kind: 'mismatch',
        legacy_email: 'u20@example.com',
        shadow_email: 'u20@example.com',
        no_legacy: false,
        no_shadow: false,
      },
      {
        key: { id: '30' },
        source: 'verify',
        kind: 'missing_in_shadow',
        legacy_email: 'u30@example.com',
        shadow_email: null,
        no_legacy: false,
        no_shadow: true,
      },
      {
        key: { id: '40' },
        source: 'verify',
        kind: 'missing_in_shadow',
        legacy_email: 'u40@example.com',
        shadow_email: null,
        no_legacy: false,
        no_shadow: true,
      },
      {
        key: { id: '5000' },
        source: 'verify',
        kind: 'missing_in_legacy',
        legacy_email: null,
        shadow_email: null,
        no_legacy: true,
        no_shadow: false,
      },
      {
        key: { id: '7000' },
        source: 'verify',
        kind: 'missing_in_legacy',
        legacy_email: null,
        shadow_email: 'u40@example.com',
        no_legacy: true,
        no_shadow: false,
      },
    ])
    expect(await metric(registry, 'cutover_verify_rows_total', { migration: 'planted', result: 'match' })).toBe(1996)
    expect(await metric(registry, 'cutover_verify_rows_total', { migration: 'planted', result: 'mismatch' })).toBe(2)
    expect(
      await metric(registry, 'cutover_verify_rows_total', { migration: 'planted', result: 'missing_in_legacy' }),
    ).toBe(2)
    const [event] = await db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM cutover.events WHERE migration = 'planted' AND kind = 'verify'",
    )
    expect(event?.details).toMatchObject({
      clean: false,
      rowsCompared: 2002,
      counts: { mismatch: 2, missing_in_shadow: 2, missing_in_legacy: 2 },
    })
  })

  it('updates the open divergence of a key seen again instead of adding another', async () => {
    await accountsMigration('seen_twice', 200)
    await db.query('UPDATE seen_twice_v2 SET email = NULL WHERE id = 7')
    await runVerify(db.pool, { ...options, migration: 'seen_twice' })
    const again = await runVerify(db.pool, { ...options, migration: 'seen_twice', limit: 0 })
    expect(again).toMatchObject({ counts: { mismatch: 1 }, differences: [] })
    expect(await db.query("SELECT key, seen_count FROM cutover.divergences WHERE migration = 'seen_twice'")).toEqual([
      { key: { id: '7' }, seen_count: 2 },
    ])
  })

  it('counts no difference that a normaliser says is only representational, and still finds a real one', async () => {
    await db.query(`
      CREATE TABLE notes (id int PRIMARY KEY, title text NOT NULL, created_at timestamptz NOT NULL);
      CREATE TABLE notes_v2 (id int PRIMARY KEY, title text NOT NULL, created_at timestamptz NOT NULL);
      CREATE TABLE notes_raw (id int PRIMARY KEY, title text NOT NULL, created_at timestamptz NOT NULL);
      INSERT INTO notes SELECT g, 'title ' || g, timestamptz '2024-01-01 00:00:00.123456+00' + g * interval '1 minute' FROM generate_series(1, 300) AS g;
      INSERT INTO notes_v2 SELECT id, title || '   ', date_trunc('milliseconds', created_at) FROM notes;
      INSERT INTO notes_raw SELECT * FROM notes_v2;
    `)
    await register({
      name: 'notes',
      legacy: { table: 'notes', key: ['id'] },
      shadow: { table: 'notes_v2', key: ['id'] },
      compare: { title: 'trim', created_at: 'timestamp_ms' },
    })
    await register({
      name: 'notes_raw',
      legacy: { table: 'notes', key: ['id'] },
      shadow: { table: 'notes_raw', key: ['id'] },
    })
    expect(await runVerify(db.pool, { ...options, migration: 'notes', chunkRows: 100 })).toMatchObject({
      clean: true,
      rowsCompared: 300,
    })
    expect(await runVerify(db.pool, { ...options, migration: 'notes_raw', chunkRows: 100 })).toMatchObject({
      clean: false,
      counts: { mismatch: 300 },
    })
    await db.query("UPDATE notes_v2 SET title = 'other' WHERE id = 42")
    const result = await runVerify(db.pool, { ...options, migration: 'notes', chunkRows: 100 })
    expect(result).toMatchObject({
      counts: { mismatch: 1, missing_in_shadow: 0, missing_in_legacy: 0 },
      differences: [{ key: { id: 42 }, kind: 'mismatch' }],
    })
  })

  it('ignores JSON key order and numeric scale of jsonb', async () => {
    await accountsMigration('json_order', 50)
    await db.query(`UPDATE json_order_v2 SET doc = '{"b": "x", "a": 5.0}' WHERE id = 5`)
    expect(await runVerify(db.pool, { ...options, migration: 'json_order' })).toMatchObject({ clean: true })
  })

  it('walks both tables in the legacy key order of a composite key with a renamed column', async () => {
    await db.query(`
      CREATE TABLE ledger (tenant int, seq bigint, amount numeric(12,2) NOT NULL, PRIMARY KEY (tenant, seq));
      CREATE TABLE ledger_v2 (tenant_id int, seq bigint, amount_cents bigint NOT NULL, PRIMARY KEY (tenant_id, seq));
      INSERT INTO ledger SELECT t, s, (t * 1000 + s) / 100.0 FROM generate_series(1, 4) AS t, generate_series(1, 250) AS s;
    `)
    await register({
      name: 'ledger',
      legacy: { table: 'ledger', key: ['tenant', 'seq'] },
      shadow: { table: 'ledger_v2', key: ['tenant_id', 'seq'] },
      forward: { tenant_id: 'tenant', amount_cents: '(amount * 100)::bigint' },
      backward: { tenant: 'tenant_id', amount: 'amount_cents / 100.0' },
    })
    await runBackfill(db.pool, { ...options, migration: 'ledger', chunkRows: 300 })
    await db.query(
      'UPDATE ledger_v2 SET tenant_id = 9 WHERE tenant_id = 2 AND seq = 17; UPDATE ledger_v2 SET amount_cents = 1 WHERE tenant_id = 3 AND seq = 250',
    )
    const result = await runVerify(db.pool, { ...options, migration: 'ledger', chunkRows: 90, workers: 2 })
    expect(result).toMatchObject({
      rowsCompared: 1001,
      counts: { mismatch: 1, missing_in_shadow: 1, missing_in_legacy: 1 },
    })
    expect(result.differences).toEqual([
      { key: { tenant: 2, seq: '17' }, kind: 'missing_in_shadow' },
      { key: { tenant: 3, seq: '250' }, kind: 'mismatch' },
      { key: { tenant: 9, seq: '17' }, kind: 'missing_in_legacy' },
    ])
  })

  it('resumes a stopped verify and reports the differences found before the stop', async () => {
    await accountsMigration('resumed', 1000)
    await db.query("UPDATE resumed_v2 SET email = 'x' WHERE id IN (5, 950)")
    const stop = new AbortController()
    await expect(
      runVerify(db.pool, {
        ...options,
        migration: 'resumed',
        chunkRows: 100,
        signal: stop.signal,
        onProgress: () => stop.abort(new Error('stopped')),
      }),
    ).rejects.toThrow('stopped')
    expect(
      await db.query(
        "SELECT status, rows_done::int, rows_differing::int FROM cutover.jobs WHERE migration = 'resumed' AND kind = 'verify'",
      ),
    ).toEqual([{ status: 'running', rows_done: 100, rows_differing: 1 }])
    const result = await runVerify(db.pool, { ...options, migration: 'resumed', chunkRows: 100 })
    expect(result).toMatchObject({ isResumed: true, rowsCompared: 1000, counts: { mismatch: 2 } })
    expect(result.differences).toEqual([
      { key: { id: 5 }, kind: 'mismatch' },
      { key: { id: 950 }, kind: 'mismatch' },
    ])
  })

  it('fails the run and its job when a chunk errors, and starts afresh next time', async () => {
    await db.query(`
      CREATE TABLE owners (id int PRIMARY KEY, owner_id text);
      CREATE TABLE owners_v2 (id int PRIMARY KEY, owner uuid);
      INSERT INTO owners SELECT g, gen_random_uuid()::text FROM generate_series(1, 300) AS g;
    `)
    await register({
      name: 'owners',
      legacy: { table: 'owners', key: ['id'] },
      shadow: { table: 'owners_v2', key: ['id'] },
      forward: { owner: 'owner_id::uuid' },
      backward: { owner_id: 'owner::text' },
    })
    await runBackfill(db.pool, { ...options, migration: 'owners' })
    await db.query("UPDATE owners SET owner_id = 'not-a-uuid' WHERE id = 250")
    const error = await runVerify(db.pool, { ...options, migration: 'owners', chunkRows: 100 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JobFailed)
    expect((error as Error).message).toMatch(
      /^verify of owners \(job (\d+)\) failed: chunk 3 \(keys \(200 \.\. 300\]\): invalid input syntax for type uuid: "not-a-uuid"; fix the cause and run it again: cutover verify owners$/,
    )
    const jobs = await db.query<{ id: string; status: string }>(
      "SELECT id::text, status, details ->> 'error' AS error FROM cutover.jobs WHERE migration = 'owners' AND kind = 'verify'",
    )
    expect(jobs).toEqual([{ id: expect.any(String), status: 'failed', error: expect.stringContaining('not-a-uuid') }])
    expect(
      await db.query("SELECT count(*)::int AS n FROM cutover.events WHERE migration = 'owners' AND kind = 'verify'"),
    ).toEqual([{ n: 0 }])
    await db.query(
      'UPDATE owners SET owner_id = o.owner::text FROM owners_v2 AS o WHERE o.id = owners.id AND owners.id = 250',
    )
    const result = await runVerify(db.pool, { ...options, migration: 'owners', chunkRows: 100 })
    expect(result).toMatchObject({ clean: true, rowsCompared: 300, isResumed: false })
    expect(result.jobId).not.toBe(jobs[0]?.id)
  })
})
