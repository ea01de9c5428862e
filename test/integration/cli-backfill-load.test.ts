import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, setPhase, setupOrders } from '../support/orders-fixture.js'
import { startWriters } from '../support/writers.js'

const db = await freshDatabase()
const ROWS = 200_000
const seed = Number(process.env.CUTOVER_SEED ?? Date.now() % 100_000)
let cutover: Cutover
let dal: MigrationDal
let close: () => Promise<void>
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'load-test', '--json'])

beforeAll(async () => {
  await setupOrders(db)
  const connected = await connectCutover(db, { random: () => 1 })
  cutover = connected.cutover
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
  dal = await cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
}, 120_000)
afterAll(async () => close())

async function loadLegacy(rows: number): Promise<void> {
  await db.query('TRUNCATE orders, orders_v2; DELETE FROM cutover.jobs; DELETE FROM cutover.divergences')
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents, status, meta)
                  SELECT g, gen_random_uuid()::text, g % 100000, 'new', jsonb_build_object('g', g) FROM generate_series(1, $1::int) g`,
    [rows],
  )
  await db.query('ANALYZE orders')
}

/** Polls `condition` until it holds, for at most 60 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 60_000; !(await condition());) {
    if (Date.now() > deadline) throw new Error('condition not met within 60 s')
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function expectCleanVerify(): Promise<void> {
  const verify = await cli('verify', 'orders_v2', '--limit', '5')
  const result = verify.json<{
    clean: boolean
    rowsCompared: number
    counts: Record<string, number>
    differences: unknown[]
  }>()
  expect(result.differences).toEqual([])
  expect(result.counts).toEqual({ mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 })
  expect(result.clean).toBe(true)
  const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')) as [{ n: number }]
  expect(result.rowsCompared).toBe(n)
  expect(await db.query('SELECT count(*)::int AS n FROM orders_v2')).toEqual([{ n }])
}

describe(`backfill under load (seed ${seed}; replay with CUTOVER_SEED=${seed})`, { timeout: 240_000 }, () => {
  it('copies 200,000 rows while 8 writers insert, update and delete through the DAL, killed with SIGKILL three times and resumed; verify finds nothing', async () => {
    await loadLegacy(ROWS)
    const writers = startWriters(dal, { count: 8, existingKeys: ROWS, firstNewKey: ROWS + 1, seed })
    try {
      const rowsDone = async (): Promise<number> =>
        Number(
          (
            await db.query<{ n: string }>(
              "SELECT coalesce(max(rows_done), 0)::text AS n FROM cutover.jobs WHERE kind = 'backfill'",
            )
          )[0]?.n,
        )
      for (let kill = 0; kill < 3; kill++) {
        // Kill at a random point: once the job has gone 5,000 to 45,000 rows further.
        const target = (await rowsDone()) + 5000 + ((seed * (kill + 1) * 7919) % 40_000)
        const killed = await runCli(
          [
            'backfill',
            'orders_v2',
            '--database-url',
            db.url,
            '--chunk-rows',
            '2000',
            '--max-rows-per-second',
            '40000',
            '--lease-seconds',
            '2',
            '--json',
          ],
          {},
          { killWhen: async () => (await rowsDone()) >= target },
        )
        expect(killed.code).toBeNull()
      }
      const [progress] = await db.query<{ rows_done: string; status: string }>(
        "SELECT rows_done::text, status FROM cutover.jobs WHERE kind = 'backfill'",
      )
      expect(progress?.status).toBe('running')
      const finished = await cli('backfill', 'orders_v2', '--lease-seconds', '2')
      expect(finished.stderr).toBe('')
      expect(finished.json()).toMatchObject({ migration: 'orders_v2', rows: expect.any(Number), resumed: true })
    } finally {
      const writes = await writers.stop()
      expect(writes).toBeGreaterThan(100)
    }
    const chunks = await db.query<{ overlaps: number }>(`
      SELECT count(*)::int AS overlaps FROM cutover.job_chunks a JOIN cutover.job_chunks b
        ON a.job_id = b.job_id AND a.chunk_no < b.chunk_no AND a.high_key = b.high_key`)
    expect(chunks).toEqual([{ overlaps: 0 }])
    await expectCleanVerify()
  })

  it('finishes while writers insert new keys faster than it copies', async () => {
    // The backfill is held to 25 rows/s over 300 rows (at least 200 remain: 8 s or more), so that 8 writers outpace it
    // even on a machine loaded enough to slow them to a few dozen inserts a second (they did 70/s at a load average of 18).
    // The writers start once the job has fixed its key range, and update and delete keys 1-100 only: started before
    // it, every key they inserted while the CLI started fell in the range (1,500 inserts/s on a quiet machine), and the
    // run lasted 20-70 s; left to delete any legacy key they emptied the range within a second or two.
    await loadLegacy(300)
    const run = cli('backfill', 'orders_v2', '--max-rows-per-second', '25', '--chunk-rows', '25')
    await until(async () => (await db.query("SELECT 1 FROM cutover.jobs WHERE kind = 'backfill'")).length > 0)
    const before = Date.now()
    const writers = startWriters(dal, { count: 8, existingKeys: 100, firstNewKey: 1_000_000, seed })
    let backfill
    try {
      backfill = await run
    } finally {
      await writers.stop()
    }
    // It went over the legacy rows the writers left, and over none of the keys they inserted meanwhile.
    const { rows } = backfill.json<{ rows: number }>()
    expect(rows).toBeGreaterThanOrEqual(200)
    expect(rows).toBeLessThanOrEqual(300)
    expect(backfill.stderr).toBe('')
    const seconds = (Date.now() - before) / 1000
    const [{ inserted }] = (await db.query<{ inserted: number }>(
      'SELECT count(*)::int AS inserted FROM orders WHERE id >= 1000000',
    )) as [{ inserted: number }]
    // The writers added keys faster than the throttled backfill went over its range, and it still finished.
    expect(inserted / seconds).toBeGreaterThan(rows / seconds)
    await expectCleanVerify()
  })

  it('two backfill processes at once share one job and copy each row once', async () => {
    await loadLegacy(60_000)
    // A session holds row 1, so the first run waits in its first chunk until the second has leased one: the two runs
    // overlap however slowly either process starts (on a loaded machine the first could otherwise finish alone).
    const holder = await db.pool.connect()
    let runs: Awaited<ReturnType<typeof cli>>[]
    try {
      await holder.query('BEGIN')
      await holder.query('SELECT 1 FROM orders WHERE id = 1 FOR UPDATE')
      const first = cli('backfill', 'orders_v2', '--chunk-rows', '1000')
      await until(
        async () =>
          (await db.query("SELECT 1 FROM cutover.jobs WHERE kind = 'backfill' AND status = 'running'")).length > 0,
      )
      const second = cli('backfill', 'orders_v2', '--chunk-rows', '1000')
      await until(
        async () =>
          (await db.query<{ n: number }>('SELECT count(DISTINCT leased_by)::int AS n FROM cutover.job_chunks'))[0]
            ?.n === 2,
      )
      await holder.query('COMMIT')
      runs = await Promise.all([first, second])
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined)
      holder.release()
    }
    expect(runs.map((r) => r.code)).toEqual([0, 0])
    // Only the first run's lock waits may be said (it says what it waits on after two quiet retries).
    const said = runs.flatMap((r) => r.stderr.split('\n').filter((line) => line.trim() !== ''))
    for (const line of said) expect(line).toMatch(/waits on/)
    const jobs = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM cutover.jobs WHERE kind = 'backfill'")
    expect(jobs).toEqual([{ n: 1 }])
    const [{ copied }] = (await db.query<{ copied: string }>(
      'SELECT sum(rows)::text AS copied FROM cutover.job_chunks',
    )) as [{ copied: string }]
    expect(Number(copied)).toBe(60_000)
    const workers = await db.query<{ n: number }>('SELECT count(DISTINCT leased_by)::int AS n FROM cutover.job_chunks')
    expect(workers[0]?.n).toBeGreaterThanOrEqual(2)
    await expectCleanVerify()
  })
})
