import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseMigration } from '../../src/core/parse-config.js'
import { ConfigInvalid } from '../../src/core/errors.js'
import { runVerify, type VerifyResult } from '../../src/jobs/entry/verify.js'
import { registerMigrations } from '../../src/actions/register.js'
import { expectRefusedUnchanged, runCli } from '../support/cli.js'
import { initControl } from '../support/control.js'
import { countedPool } from '../support/counted-pool.js'
import { freshDatabase } from '../support/database.js'

const db = await freshDatabase()
const schema = 'cutover'
// Legacy holds the even keys 2…120,000: one chunk of 60,000 legacy keys, cut into parts at its 30,000th key
// (60,000) with two connections, at its 20,000th and 40,000th (40,000 and 80,000) with three.
const LEGACY_ROWS = 60_000
const EDGES = [40_000, 60_000, 80_000]
const MISMATCHED = EDGES.flatMap((e) => [e, e + 2])
const MISSING_IN_SHADOW = EDGES.flatMap((e) => [e - 2, e + 4])
// Shadow-only keys (odd: legacy has none) on both sides of each edge, before legacy's first key and after its last.
const MISSING_IN_LEGACY = [1, ...EDGES.flatMap((e) => [e - 1, e + 1]), 2 * LEGACY_ROWS + 1]
const EXPECTED = {
  mismatch: MISMATCHED.length,
  missing_in_shadow: MISSING_IN_SHADOW.length,
  missing_in_legacy: MISSING_IN_LEGACY.length,
}
const COMPARED = LEGACY_ROWS + MISSING_IN_LEGACY.length

const pools: pg.Pool[] = []
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()))
})

async function verifyWith(
  parallel: number,
  max = 10,
  migration = 'evens',
): Promise<{ result: VerifyResult; peak: number; out: number }> {
  const counted = countedPool(db.url, max)
  pools.push(counted.pool)
  const result = await runVerify(counted.pool, {
    schema,
    migration,
    actor: 'test',
    chunkRows: LEGACY_ROWS,
    targetChunkMs: 0,
    parallel,
  })
  return { result, peak: counted.peak(), out: counted.out() }
}

async function differencesOf(jobId: string): Promise<[number, string][]> {
  const rows = await db.query<{ id: number; kind: string }>(
    `SELECT (key ->> 'id')::int AS id, kind FROM cutover.divergences WHERE migration = 'evens' AND detail = $1 ORDER BY 1`,
    [`verify job ${jobId}`],
  )
  return rows.map((r) => [r.id, r.kind])
}

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(
    `
    CREATE TABLE evens (id int PRIMARY KEY, v text NOT NULL);
    CREATE TABLE evens_v2 (id int PRIMARY KEY, v text NOT NULL);
    INSERT INTO evens SELECT 2 * g, 'v' || g FROM generate_series(1, ${LEGACY_ROWS}) AS g;
    INSERT INTO evens_v2 SELECT id, v FROM evens;
    UPDATE evens_v2 SET v = 'changed' WHERE id = ANY($1::int[]);
    DELETE FROM evens_v2 WHERE id = ANY($2::int[]);
    INSERT INTO evens_v2 SELECT id, 'extra' FROM unnest($3::int[]) AS id;
    CREATE TABLE same (id int PRIMARY KEY, v text NOT NULL);
    CREATE TABLE same_v2 (id int PRIMARY KEY, v text NOT NULL);
    INSERT INTO same SELECT id, v FROM evens;
    INSERT INTO same_v2 SELECT id, v FROM same;
  `
      .replace('$1::int[]', `'{${MISMATCHED.join(',')}}'::int[]`)
      .replace('$2::int[]', `'{${MISSING_IN_SHADOW.join(',')}}'::int[]`)
      .replace('$3::int[]', `'{${MISSING_IN_LEGACY.join(',')}}'::int[]`),
  )
  await registerMigrations(
    db.pool,
    ['evens', 'same'].map((name) =>
      parseMigration({ name, legacy: { table: name, key: ['id'] }, shadow: { table: `${name}_v2`, key: ['id'] } }),
    ),
    { schema, actor: 'test' },
  )
})

describe('verify counting a chunk on several connections at once', () => {
  const expectedDifferences = [
    ...MISMATCHED.map((id) => [id, 'mismatch'] as [number, string]),
    ...MISSING_IN_SHADOW.map((id) => [id, 'missing_in_shadow'] as [number, string]),
    ...MISSING_IN_LEGACY.map((id) => [id, 'missing_in_legacy'] as [number, string]),
  ].sort((a, b) => a[0] - b[0])

  it('counts every key once with 1, 2 and 3 connections, differences on both sides of every part edge', async () => {
    for (const parallel of [1, 2, 3]) {
      const { result, peak, out } = await verifyWith(parallel)
      expect({ parallel, rowsCompared: result.rowsCompared, counts: result.counts }).toEqual({
        parallel,
        rowsCompared: COMPARED,
        counts: EXPECTED,
      })
      expect(await differencesOf(result.jobId)).toEqual(expectedDifferences)
      // The parts ran at once, each on its own connection; every connection went back to the pool.
      expect({ parallel, peak }).toEqual({ parallel, peak: parallel })
      expect(out).toBe(0)
    }
  }, 120_000)

  it('counts the keys of a clean chunk exactly once: no part edge is counted twice', async () => {
    for (const parallel of [1, 2, 3]) {
      const { result } = await verifyWith(parallel, 10, 'same')
      expect({ parallel, rowsCompared: result.rowsCompared, clean: result.clean }).toEqual({
        parallel,
        rowsCompared: LEGACY_ROWS,
        clean: true,
      })
    }
  }, 120_000)

  it('finds a lone difference at a part edge: no edge key is left out of both parts', async () => {
    for (const [parallel, edge] of [
      [2, 60_000],
      [3, 40_000],
      [3, 80_000],
    ] as const) {
      await db.query(`UPDATE same_v2 SET v = 'changed' WHERE id = ${edge}`)
      const { result } = await verifyWith(parallel, 10, 'same')
      await db.query(`UPDATE same_v2 SET v = (SELECT v FROM same WHERE id = ${edge}) WHERE id = ${edge}`)
      expect({ parallel, edge, counts: result.counts }).toEqual({
        parallel,
        edge,
        counts: { mismatch: 1, missing_in_shadow: 0, missing_in_legacy: 0 },
      })
    }
  }, 120_000)

  it('counts on fewer connections when the pool has none to spare, with the same result', async () => {
    const { result, peak, out } = await verifyWith(3, 1)
    expect({ rowsCompared: result.rowsCompared, counts: result.counts }).toEqual({
      rowsCompared: COMPARED,
      counts: EXPECTED,
    })
    expect(peak).toBe(1)
    expect(out).toBe(0)
  }, 120_000)

  it('cuts a tail of shadow rows legacy lacks into chunks of at most the chunk size of each table', async () => {
    await db.query(`
      CREATE TABLE tail (id int PRIMARY KEY, v text NOT NULL);
      CREATE TABLE tail_v2 (id int PRIMARY KEY, v text NOT NULL);
      INSERT INTO tail SELECT g, 'v' FROM generate_series(1, 100) AS g;
      INSERT INTO tail_v2 SELECT g, 'v' FROM generate_series(1, 1100) AS g;`)
    await registerMigrations(
      db.pool,
      [
        parseMigration({
          name: 'tail',
          legacy: { table: 'tail', key: ['id'] },
          shadow: { table: 'tail_v2', key: ['id'] },
        }),
      ],
      { schema, actor: 'test' },
    )
    const result = await runVerify(db.pool, {
      schema,
      migration: 'tail',
      actor: 'test',
      chunkRows: 100,
      targetChunkMs: 0,
    })
    expect({ rowsCompared: result.rowsCompared, counts: result.counts }).toEqual({
      rowsCompared: 1100,
      counts: { mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 1000 },
    })
    const chunks = await db.query<{ rows: number }>(
      `SELECT rows::int AS rows FROM cutover.job_chunks WHERE job_id = $1 ORDER BY chunk_no`,
      [result.jobId],
    )
    expect(chunks.map((c) => c.rows)).toEqual(Array.from({ length: 11 }, () => 100))
  }, 60_000)
})

describe('sizing options refused, by the library and the CLI alike', () => {
  const jobs = async (): Promise<string> =>
    JSON.stringify(await db.query(`SELECT id, kind, status FROM cutover.jobs ORDER BY id`))

  it('refuses a parallel, workers, chunk size or limit that is not a whole number in range, and writes nothing', async () => {
    const before = await jobs()
    for (const bad of [
      { parallel: 0 },
      { parallel: 1.5 },
      { parallel: 17 },
      { workers: 0 },
      { workers: Number.NaN },
      { chunkRows: -5 },
      { limit: -1 },
    ]) {
      await expect(runVerify(db.pool, { schema, migration: 'evens', actor: 'test', ...bad })).rejects.toBeInstanceOf(
        ConfigInvalid,
      )
    }
    await expect(runVerify(db.pool, { schema, migration: 'evens', actor: 'test', parallel: 0 })).rejects.toThrow(
      'migration "evens": --parallel (parallel) must be a whole number from 1 to 16, not 0; for example: cutover verify evens --parallel 2',
    )
    expect(await jobs()).toBe(before)
  })

  it('the CLI refuses --parallel 0 and --workers abc in one line, and the command it suggests runs', async () => {
    const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'ana'])
    await expectRefusedUnchanged(
      () => cli('verify', 'evens', '--parallel', '0'),
      jobs,
      2,
      /^cutover: migration "evens": --parallel \(parallel\) must be a whole number from 1 to 16, not 0; for example: cutover verify evens --parallel 2$/,
    )
    await expectRefusedUnchanged(
      () => cli('verify', 'evens', '--workers', 'abc'),
      jobs,
      2,
      /--workers \(workers\) must be a whole number from 1 to 64, not something that is not a number; for example: cutover verify evens --workers 2$/,
    )
    const suggested = await cli('verify', 'evens', '--parallel', '2')
    // Accepted: it runs and finds the differences this table holds (exit 1), not a usage error.
    expect(suggested.stderr).toMatch(/verify found differences/)
    expect(suggested.code).toBe(1)
  }, 60_000)
})
