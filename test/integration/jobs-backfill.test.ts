import { Registry } from 'prom-client'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseMigration } from '../../src/core/parse-config.js'
import { migrationShape } from '../../src/shape/migration-shape.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { backfillSql } from '../../src/jobs/statements/backfill-sql.js'
import { claimChunk, completeAndTally } from '../../src/jobs/chunks/chunk-lease.js'
import { nextChunkRows } from '../../src/jobs/chunks/chunk-sizing.js'
import type { JobClock } from '../../src/jobs/harness/job-clock.js'
import { JobFailed } from '../../src/jobs/harness/job-failed.js'
import { keyRangeSql } from '../../src/jobs/chunks/key-range-sql.js'
import { openJob } from '../../src/jobs/harness/open-job.js'
import { RowRateThrottle } from '../../src/jobs/throttles/row-rate-throttle.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { registerMigrations } from '../../src/actions/register.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { setPhase } from '../support/orders-fixture.js'

const db = await freshDatabase()
const schema = 'cutover'
const fixed = { schema, actor: 'test', targetChunkMs: 0 }

async function register(config: Record<string, unknown>) {
  const [checked] = await registerMigrations(db.pool, [parseMigration(config)], { schema, actor: 'test' })
  if (!checked) throw new Error('not registered')
  return checked
}

/** `name` (legacy) and `name_v2` (shadow: name renamed, owner_id turned uuid), `rows` rows with ids firstId, firstId+3, … */
async function itemsMigration(name: string, rows: number, firstId = 1): Promise<void> {
  await db.query(`
    CREATE TABLE ${name} (id bigint PRIMARY KEY, name text NOT NULL, owner_id varchar(36), note text);
    CREATE TABLE ${name}_v2 (id bigint PRIMARY KEY, label text NOT NULL, owner uuid, note text, copied_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO ${name} SELECT ${firstId} + g * 3, 'name ' || g, gen_random_uuid()::text, CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || g END
      FROM generate_series(0, ${rows - 1}) AS g;
  `)
  await register({
    name,
    legacy: { table: `public.${name}`, key: ['id'] },
    shadow: { table: `public.${name}_v2`, key: ['id'] },
    forward: { label: 'upper(name)', owner: 'owner_id::uuid' },
    backward: { name: 'lower(label)', owner_id: 'owner::text' },
  })
}

/** Rows on either side that the other lacks, comparing the shadow with forward(legacy). */
async function itemsDifferences(name: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`
    SELECT count(*)::int AS n FROM (
      (SELECT id, upper(name) AS label, owner_id::uuid AS owner, note FROM ${name} EXCEPT ALL SELECT id, label, owner, note FROM ${name}_v2)
      UNION ALL
      (SELECT id, label, owner, note FROM ${name}_v2 EXCEPT ALL SELECT id, upper(name), owner_id::uuid, note FROM ${name})) AS d`)
  return row?.n ?? -1
}

async function count(table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)
  return row?.n ?? -1
}

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const found = (await registry.getSingleMetric(name)?.get())?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )
  return found?.value ?? 0
}

beforeAll(async () => {
  await initControl(db.pool)
})

describe('backfill', () => {
  it('refuses once the shadow is authoritative (shadow_primary, complete), copying nothing and opening no job', async () => {
    await itemsMigration('authority', 30)
    for (const phase of ['shadow_primary', 'complete'] as const) {
      await setPhase(db.pool, phase, undefined, 'authority')
      await expect(runBackfill(db.pool, { ...fixed, migration: 'authority' })).rejects.toThrow(
        new RegExp(`^authority: backfill copies legacy into the shadow, but the shadow is authoritative in ${phase}`),
      )
    }
    expect(await db.query('SELECT count(*)::int AS n FROM authority_v2')).toEqual([{ n: 0 }])
    expect(await db.query("SELECT count(*)::int AS n FROM cutover.jobs WHERE migration = 'authority'")).toEqual([
      { n: 0 },
    ])
  })

  it('copies every row exactly, with several workers, and records the job, its event and its metrics', async () => {
    await itemsMigration('copy_all', 2500)
    const registry = new Registry()
    const result = await runBackfill(db.pool, { ...fixed, migration: 'copy_all', workers: 3, chunkRows: 200, registry })
    expect(result).toMatchObject({ migration: 'copy_all', rows: 2500, copied: 2500, isResumed: false })
    expect(await count('copy_all_v2')).toBe(2500)
    expect(await itemsDifferences('copy_all')).toBe(0)
    expect(
      await db.query(
        'SELECT status, rows_done::int, finished_at IS NOT NULL AS finished FROM cutover.jobs WHERE id = $1',
        [result.jobId],
      ),
    ).toEqual([{ status: 'done', rows_done: 2500, finished: true }])
    expect(
      await db.query(
        "SELECT count(*)::int AS chunks, sum(rows)::int AS rows FROM cutover.job_chunks WHERE job_id = $1 AND status = 'done'",
        [result.jobId],
      ),
    ).toEqual([{ chunks: 13, rows: 2500 }])
    const events = await db.query<{ actor: string; details: { rows: number; seconds: number } }>(
      "SELECT actor, details FROM cutover.events WHERE migration = 'copy_all' AND kind = 'backfill'",
    )
    expect(events).toHaveLength(1)
    expect(events[0]?.actor).toBe('test')
    expect(events[0]?.details.rows).toBe(2500)
    expect(typeof events[0]?.details.seconds).toBe('number')
    expect(await metric(registry, 'cutover_backfill_rows_total', { migration: 'copy_all' })).toBe(2500)
    expect(await metric(registry, 'cutover_backfill_progress_ratio', { migration: 'copy_all' })).toBe(1)
    const verify = await runVerify(db.pool, { schema, migration: 'copy_all', actor: 'test' })
    expect(verify).toMatchObject({ clean: true, rowsCompared: 2500 })
  })

  it('copies bigint keys above 2^53 exactly, chunk bounds included', async () => {
    await db.query(`
      CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
      CREATE TABLE big_v2 (id bigint PRIMARY KEY, v text NOT NULL);
      INSERT INTO big SELECT 9007199254740993 + g, 'v' || g FROM generate_series(0, 999) AS g;
    `)
    await register({ name: 'big', legacy: { table: 'big', key: ['id'] }, shadow: { table: 'big_v2', key: ['id'] } })
    const result = await runBackfill(db.pool, { ...fixed, migration: 'big', chunkRows: 37 })
    expect(result.rows).toBe(1000)
    expect(await db.query('SELECT id::text, v FROM big EXCEPT SELECT id::text, v FROM big_v2')).toEqual([])
    expect(await count('big_v2')).toBe(1000)
    expect(await db.query('SELECT low_key, high_key FROM cutover.jobs WHERE id = $1', [result.jobId])).toEqual([
      { low_key: ['9007199254740993'], high_key: ['9007199254741992'] },
    ])
    const bounds = await db.query<{ high_key: string[] }>(
      'SELECT high_key FROM cutover.job_chunks WHERE job_id = $1 AND chunk_no = 1',
      [result.jobId],
    )
    expect(bounds).toEqual([{ high_key: ['9007199254741029'] }])
  })

  it('copies a composite-key table whose key columns are renamed, chunks crossing the first column', async () => {
    await db.query(`
      CREATE TABLE ledger (tenant int, seq bigint, amount numeric(12,2) NOT NULL, PRIMARY KEY (tenant, seq));
      CREATE TABLE ledger_v2 (tenant_id int, seq bigint, amount_cents bigint NOT NULL, PRIMARY KEY (tenant_id, seq));
      INSERT INTO ledger SELECT t, s, (t * 1000 + s) / 100.0 FROM generate_series(1, 5) AS t, generate_series(1, 400) AS s;
    `)
    await register({
      name: 'ledger',
      legacy: { table: 'ledger', key: ['tenant', 'seq'] },
      shadow: { table: 'ledger_v2', key: ['tenant_id', 'seq'] },
      forward: { tenant_id: 'tenant', amount_cents: '(amount * 100)::bigint' },
      backward: { tenant: 'tenant_id', amount: 'amount_cents / 100.0' },
    })
    const result = await runBackfill(db.pool, { ...fixed, migration: 'ledger', chunkRows: 150, workers: 2 })
    expect(result.rows).toBe(2000)
    expect(
      await db.query(`
      (SELECT tenant, seq, (amount * 100)::bigint AS cents FROM ledger EXCEPT SELECT tenant_id, seq, amount_cents FROM ledger_v2)
      UNION ALL (SELECT tenant_id, seq, amount_cents FROM ledger_v2 EXCEPT SELECT tenant, seq, (amount * 100)::bigint FROM ledger)`),
    ).toEqual([])
    expect(await runVerify(db.pool, { schema, migration: 'ledger', actor: 'test', chunkRows: 170 })).toMatchObject({
      clean: true,
      rowsCompared: 2000,
    })
  })

  it('resumes a run stopped mid-way without copying or counting any row twice', async () => {
    await itemsMigration('resume', 2000)
    const stop = new AbortController()
    let chunks = 0
    const first = runBackfill(db.pool, {
      ...fixed,
      migration: 'resume',
      chunkRows: 100,
      signal: stop.signal,
      onProgress: () => {
        if (++chunks === 3) stop.abort(new Error('killed'))
      },
    })
    await expect(first).rejects.toThrow('killed')
    const [job] = await db.query<{ id: string; status: string; rows_done: number }>(
      "SELECT id::text, status, rows_done::int FROM cutover.jobs WHERE migration = 'resume'",
    )
    expect(job).toMatchObject({ status: 'running', rows_done: 300 })
    expect(await count('resume_v2')).toBe(300)

    const second = await runBackfill(db.pool, { ...fixed, migration: 'resume', chunkRows: 100 })
    expect(second).toMatchObject({ jobId: job?.id, isResumed: true, rows: 2000, copied: 2000 })
    expect(
      await db.query(
        "SELECT count(*)::int AS chunks, sum(rows)::int AS rows FROM cutover.job_chunks WHERE job_id = $1 AND status = 'done'",
        [job?.id],
      ),
    ).toEqual([{ chunks: 20, rows: 2000 }])
    expect(await itemsDifferences('resume')).toBe(0)
  })

  it('takes over a chunk whose worker died once its lease expires, and refuses the dead worker a late completion', async () => {
    await itemsMigration('dead_worker', 1000)
    const opened = await openJob(db.pool, {
      schema,
      migration: 'dead_worker',
      kind: 'backfill',
      span: 'legacy',
      actor: 'test',
      chunkRows: 100,
    })
    const holder = { jobId: opened.job.id, worker: 'dead-worker', leaseMs: 60_000, sql: opened.sql, keys: opened.keys }
    const client = await db.pool.connect()
    try {
      const claim = await claimChunk(client, holder)
      expect(claim).toMatchObject({
        kind: 'chunk',
        chunk: { chunkNo: 1, attempts: 1, range: { lower: ['1'], isLowerInclusive: true, upper: ['298'] } },
      })
      await db.query("UPDATE cutover.job_chunks SET lease_until = now() - interval '1 second' WHERE job_id = $1", [
        opened.job.id,
      ])
      const result = await runBackfill(db.pool, { ...fixed, migration: 'dead_worker', chunkRows: 100 })
      expect(result).toMatchObject({ jobId: opened.job.id, rows: 1000 })
      const [chunk] = await db.query<{ status: string; attempts: number; leased_by: string }>(
        'SELECT status, attempts, leased_by FROM cutover.job_chunks WHERE job_id = $1 AND chunk_no = 1',
        [opened.job.id],
      )
      expect(chunk).toMatchObject({ status: 'done', attempts: 2 })
      expect(chunk?.leased_by).not.toBe('dead-worker')
      if (claim.kind !== 'chunk') throw new Error('expected a chunk')
      expect(
        await completeAndTally(client, holder, claim.chunk, { rows: 100, differing: 0, tallies: {} }, null),
      ).toBeNull()
      expect(
        (
          await db.query<{ rows_done: string }>('SELECT rows_done::text FROM cutover.jobs WHERE id = $1', [
            opened.job.id,
          ])
        )[0]?.rows_done,
      ).toBe('1000')
    } finally {
      client.release()
    }
    expect(await itemsDifferences('dead_worker')).toBe(0)
  })

  it('lets two runs share one job, both finishing with an exact copy and one event', async () => {
    await itemsMigration('shared', 3000)
    const [a, b] = await Promise.all([
      runBackfill(db.pool, { ...fixed, migration: 'shared', chunkRows: 100, workers: 2 }),
      runBackfill(db.pool, { ...fixed, migration: 'shared', chunkRows: 100, workers: 2 }),
    ])
    expect(a?.jobId).toBe(b?.jobId)
    expect([a?.rows, b?.rows]).toEqual([3000, 3000])
    expect(await count('shared_v2')).toBe(3000)
    expect(await itemsDifferences('shared')).toBe(0)
    expect(
      await db.query(
        'SELECT sum(rows)::int AS rows, count(*)::int AS chunks FROM cutover.job_chunks WHERE job_id = $1',
        [a?.jobId],
      ),
    ).toEqual([{ rows: 3000, chunks: 30 }])
    expect(
      await db.query("SELECT count(*)::int AS n FROM cutover.events WHERE migration = 'shared' AND kind = 'backfill'"),
    ).toEqual([{ n: 1 }])
  })

  it('leaves out legacy rows inserted after the job started, outside its fixed key range', async () => {
    await itemsMigration('late_rows', 1000, 10)
    const stop = new AbortController()
    await expect(
      runBackfill(db.pool, {
        ...fixed,
        migration: 'late_rows',
        chunkRows: 100,
        signal: stop.signal,
        onProgress: () => stop.abort(new Error('paused')),
      }),
    ).rejects.toThrow('paused')
    await db.query(
      "INSERT INTO late_rows VALUES (1, 'below', NULL, NULL), (5000, 'above', NULL, NULL), (5001, 'above', NULL, NULL)",
    )
    const result = await runBackfill(db.pool, { ...fixed, migration: 'late_rows', chunkRows: 100 })
    expect(result.rows).toBe(1000)
    expect(await db.query('SELECT id FROM late_rows_v2 WHERE id IN (1, 5000, 5001)')).toEqual([])
    expect(await count('late_rows_v2')).toBe(1000)
  })

  it('retries a chunk that meets a locked row, saying what it waits on once it is more than a moment, and counts the retries', async () => {
    await itemsMigration('locked', 500)
    const registry = new Registry()
    const warnings: string[] = []
    const logger = {
      info: () => undefined,
      debug: () => undefined,
      warn: (_: Record<string, unknown>, message: string) => {
        warnings.push(message)
      },
    }
    const holder = await db.pool.connect()
    try {
      await holder.query('BEGIN')
      await holder.query('SELECT * FROM locked WHERE id = 301 FOR UPDATE')
      const run = runBackfill(db.pool, {
        ...fixed,
        migration: 'locked',
        chunkRows: 100,
        lockTimeoutMs: 50,
        registry,
        logger,
      })
      for (
        let i = 0;
        i < 400 &&
        (await metric(registry, 'cutover_lock_retries_total', { migration: 'locked', task: 'backfill' })) < 3;
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      await holder.query('COMMIT')
      expect((await run).rows).toBe(500)
    } finally {
      holder.release()
    }
    expect(
      await metric(registry, 'cutover_lock_retries_total', { migration: 'locked', task: 'backfill' }),
    ).toBeGreaterThanOrEqual(3)
    // The first two retries are routine (a writer held a row for a moment) and only logged at debug.
    expect(warnings[0]).toMatch(
      /^backfill chunk \d+ of locked \(keys .*\) waits on a row lock on public\.locked held by another transaction .*: could not obtain lock on row in relation "locked"; retry 3 of 30 in \d+ ms$/,
    )
    expect(await itemsDifferences('locked')).toBe(0)
  })

  it('fails the run on a chunk the shadow refuses, keeping the job to resume once the cause is fixed', async () => {
    await itemsMigration('refused', 600)
    await db.query("ALTER TABLE refused_v2 ADD CONSTRAINT no_bad CHECK (label <> 'NAME 250')")
    const error = await runBackfill(db.pool, { ...fixed, migration: 'refused', chunkRows: 100 }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(JobFailed)
    expect((error as JobFailed).exitCode).toBe(1)
    expect((error as Error).message).toMatch(
      /^backfill of refused \(job \d+\) failed: chunk 3 \(keys \(.*\]\): new row for relation "refused_v2" violates check constraint "no_bad"; .*resumes where it stopped: cutover backfill refused$/,
    )
    expect(await db.query("SELECT status, rows_done::int FROM cutover.jobs WHERE migration = 'refused'")).toEqual([
      { status: 'running', rows_done: 200 },
    ])
    await db.query('ALTER TABLE refused_v2 DROP CONSTRAINT no_bad')
    expect(await runBackfill(db.pool, { ...fixed, migration: 'refused', chunkRows: 100 })).toMatchObject({
      rows: 600,
      isResumed: true,
    })
    expect(await itemsDifferences('refused')).toBe(0)
  })

  it('finishes at once on an empty table', async () => {
    await itemsMigration('empty', 1)
    await db.query('DELETE FROM empty')
    expect(await runBackfill(db.pool, { ...fixed, migration: 'empty' })).toMatchObject({ rows: 0, copied: 0 })
    expect(await db.query("SELECT status, low_key FROM cutover.jobs WHERE migration = 'empty'")).toEqual([
      { status: 'done', low_key: null },
    ])
  })

  it('throttles to maxRowsPerSecond, booking each chunk on a shared timeline', async () => {
    await itemsMigration('throttled', 1000)
    let now = 0
    const sleeps: number[] = []
    const clock: JobClock = {
      now: () => now,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms)
        now += ms
      },
    }
    await runBackfill(db.pool, { ...fixed, migration: 'throttled', chunkRows: 100, maxRowsPerSecond: 2000, clock })
    expect(sleeps).toEqual(Array.from({ length: 10 }, () => 50))
  })

  it('quotes hostile table and column names, which stay inert', async () => {
    await db.query(`
      CREATE SCHEMA "Odd Schema";
      CREATE TABLE "Odd Schema"."users; DROP TABLE victim" ("Id" bigint PRIMARY KEY, "Full Name" text, "a""b" int);
      CREATE TABLE "Odd Schema"."Users_V2" ("ID" bigint PRIMARY KEY, "select" text, "a""b" int);
      CREATE TABLE victim (id int);
      INSERT INTO "Odd Schema"."users; DROP TABLE victim" SELECT g, 'n' || g, g FROM generate_series(1, 300) AS g;
    `)
    await register({
      name: 'hostile',
      legacy: { table: '"Odd Schema"."users; DROP TABLE victim"', key: ['Id'] },
      shadow: { table: '"Odd Schema".Users_V2', key: ['ID'] },
      forward: { ID: '"Id"', select: '"Full Name"' },
      backward: { Id: '"ID"', 'Full Name': '"select"' },
    })
    expect(await runBackfill(db.pool, { ...fixed, migration: 'hostile', chunkRows: 70 })).toMatchObject({ rows: 300 })
    expect(await runVerify(db.pool, { schema, migration: 'hostile', actor: 'test', chunkRows: 70 })).toMatchObject({
      clean: true,
      rowsCompared: 300,
    })
    expect(await count('victim')).toBe(0)
  })
})

describe('chunk statements', () => {
  it('pins the copy and next-bound SQL of a composite key: names quoted, keys as typed parameters', async () => {
    await db.query(
      'CREATE TABLE pairs (a int, b text, v text, PRIMARY KEY (a, b)); CREATE TABLE pairs_v2 (a int, bb text, v text, PRIMARY KEY (a, bb))',
    )
    const shape = migrationShape(
      await register({
        name: 'pairs',
        legacy: { table: 'pairs', key: ['a', 'b'] },
        shadow: { table: 'pairs_v2', key: ['a', 'bb'] },
        forward: { bb: 'b' },
        backward: { b: 'bb' },
      }),
    )
    const range = { lower: ['1', 'x'], isLowerInclusive: false, upper: ['2', 'y'] }
    expect(backfillSql(shape).copyChunk(range)).toEqual({
      text: 'INSERT INTO "public"."pairs_v2" ("a", "bb", "v") SELECT "a", b, "v" FROM (SELECT lt.* FROM "public"."pairs" AS lt WHERE (lt."a", lt."b") > ($1::integer, $2::text) AND (lt."a", lt."b") <= ($3::integer, $4::text) ORDER BY lt."a", lt."b" FOR SHARE NOWAIT) AS src',
      values: ['1', 'x', '2', 'y'],
    })
    expect(backfillSql(shape).copyChunkKeepingShadowRows(range)).toEqual({
      text:
        'WITH src AS (SELECT lt.* FROM "public"."pairs" AS lt WHERE (lt."a", lt."b") > ($1::integer, $2::text) AND (lt."a", lt."b") <= ($3::integer, $4::text) ORDER BY lt."a", lt."b" FOR SHARE NOWAIT),\n' +
        'copied AS (INSERT INTO "public"."pairs_v2" ("a", "bb", "v") SELECT "a", b, "v" FROM src ON CONFLICT ("a", "bb") DO NOTHING RETURNING 1)\n' +
        'SELECT (SELECT count(*) FROM src)::int AS scanned, (SELECT count(*) FROM copied)::int AS copied',
      values: ['1', 'x', '2', 'y'],
    })
    expect(keyRangeSql(shape, 'legacy').nextBound({ ...range, isLowerInclusive: true }, 10)).toEqual({
      text:
        'SELECT ARRAY[lt."a"::text, lt."b"::text] AS key FROM "public"."pairs" AS lt WHERE (lt."a", lt."b") >= ($1::integer, $2::text) AND (lt."a", lt."b") <= ($3::integer, $4::text) ' +
        'ORDER BY lt."a" ASC, lt."b" ASC OFFSET $5 LIMIT 1',
      values: ['1', 'x', '2', 'y', 9],
    })
    expect(keyRangeSql(shape, 'both').nextBound(range, 10)).toEqual({
      text:
        'SELECT coalesce((SELECT ARRAY[lt."a"::text, lt."b"::text] FROM "public"."pairs" AS lt WHERE (lt."a", lt."b") > ($1::integer, $2::text) AND (lt."a", lt."b") <= ($3::integer, $4::text) ' +
        'ORDER BY lt."a" ASC, lt."b" ASC OFFSET $5 LIMIT 1), (SELECT ARRAY[k."__k0"::text, k."__k1"::text] FROM "public"."pairs_v2" AS st CROSS JOIN LATERAL (SELECT ("a")::integer AS "__k0", (bb)::text AS "__k1") AS k ' +
        'WHERE (k."__k0", k."__k1") > ($1::integer, $2::text) AND (k."__k0", k."__k1") <= ($3::integer, $4::text) ORDER BY k."__k0" ASC, k."__k1" ASC OFFSET $5 LIMIT 1)) AS key',
      values: ['1', 'x', '2', 'y', 9],
    })
  })
})

describe('chunk sizing and throttling', () => {
  it('scales the chunk toward the target time, within 100 to 50,000 rows', () => {
    expect(nextChunkRows(1000, 1000, 50, 200)).toBe(4000)
    expect(nextChunkRows(1000, 1000, 1000, 200)).toBe(200)
    expect(nextChunkRows(1000, 1000, 10_000, 200)).toBe(100)
    expect(nextChunkRows(40_000, 40_000, 100, 200)).toBe(50_000)
    expect(nextChunkRows(700, 0, 5, 200)).toBe(700)
  })

  it('makes the second chunk of a burst wait for the first one booking', () => {
    const clock: JobClock = { now: () => 0, random: () => 0, sleep: async () => undefined }
    const throttle = new RowRateThrottle(clock, 1000)
    expect(throttle.reserve(500)).toEqual({ waitMs: 500, reason: 'max 1000 rows/s' })
    expect(throttle.reserve(500)).toEqual({ waitMs: 1000, reason: 'max 1000 rows/s' })
    expect(new RowRateThrottle(clock, undefined).reserve(500).waitMs).toBe(0)
  })
})
