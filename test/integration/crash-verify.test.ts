import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { hasReached, jobOf, jobProblems } from '../support/job-invariants.js'
import { dualWritingOrders } from '../support/orders-fixture.js'
import { startRangeWriters } from '../support/range-writers.js'
import { cliBackendsGone, terminateMidStatement } from '../support/terminate.js'
import { seededRandom } from '../support/writers.js'

const db = await freshDatabase()
const ROWS = 150_000
const seed = Number(process.env.CUTOVER_SEED ?? Date.now() % 100_000)
const random = seededRandom(seed)
let dal: MigrationDal
let close: () => Promise<void>

const VERIFY = ['verify', 'orders_v2', '--database-url', db.url, '--json', '--limit', '3']

beforeAll(async () => {
  const orders = await dualWritingOrders(db)
  dal = orders.dal
  close = orders.close
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents, status, meta)
                  SELECT g, gen_random_uuid()::text, g % 100000, 'new', jsonb_build_object('g', g) FROM generate_series(1, $1::int) g`,
    [ROWS],
  )
  await db.query('ANALYZE orders')
  await runBackfill(db.pool, {
    schema: 'cutover',
    migration: 'orders_v2',
    actor: 'test',
    chunkRows: 20_000,
    workers: 2,
  })
  // Differences behind the DAL's back, all in the upper half of the keys, which the writers never touch.
  await db.query(
    `
    UPDATE orders_v2 SET status = 'corrupted' WHERE id > $1 AND id % 97 = 0;
    DELETE FROM orders_v2 WHERE id > $1 AND id % 89 = 0;
    DELETE FROM orders WHERE id > $1 AND id % 83 = 0;`.replaceAll('$1', String(ROWS / 2)),
  )
}, 120_000)
afterAll(async () => close())

describe(`verify crashes (seed ${seed}; replay with CUTOVER_SEED=${seed})`, () => {
  it('resumes the same job after a SIGKILL and a connection terminated mid-statement, counting every difference once', async () => {
    const [expected] = await db.query<{
      mismatch: number
      missing_in_shadow: number
      missing_in_legacy: number
      keys: number
    }>(`SELECT
        count(*) FILTER (WHERE o.id IS NOT NULL AND s.id IS NOT NULL AND s.status IS DISTINCT FROM o.status)::int AS mismatch,
        count(*) FILTER (WHERE s.id IS NULL)::int AS missing_in_shadow, count(*) FILTER (WHERE o.id IS NULL)::int AS missing_in_legacy,
        count(*)::int AS keys
      FROM orders o FULL JOIN orders_v2 s ON s.id = o.id`)
    expect(expected?.mismatch).toBeGreaterThan(100)
    const writers = startRangeWriters(dal, { count: 3, updateKeys: ROWS / 2, firstNewKey: 1_000_000, seed })
    let jobId: string | undefined
    try {
      for (const [i, how] of (['sigkill', 'terminate'] as const).entries()) {
        const target = Math.floor(((i + 0.5 + random()) * ROWS) / 4)
        const reached = (): Promise<boolean> => hasReached(db, 'orders_v2', 'verify', target)
        if (how === 'sigkill') {
          const killed = await runCli(VERIFY, {}, { killWhen: reached })
          expect(killed.code, killed.stderr).toBeNull()
          await cliBackendsGone(db)
        } else {
          const run = runCli(VERIFY)
          expect(await terminateMidStatement(db, 'WITH l AS', reached, run)).toBeGreaterThan(0)
          const failed = await run
          expect(failed.code, failed.stderr).toBe(3)
        }
        // Still running, the same job: a lost connection must not fail it, or the next run would start over.
        const job = await jobOf(db, 'orders_v2', 'verify')
        expect(job?.status, how).toBe('running')
        jobId ??= job?.id
        expect(job?.id).toBe(jobId)
        expect(await jobProblems(db, 'orders_v2', ['verify'])).toEqual([])
      }
      const finished = await runCli(VERIFY)
      expect(finished.code, finished.stderr).toBe(1)
      const result = finished.json<{
        rowsCompared: number
        clean: boolean
        counts: Record<string, number>
        differences: unknown[]
      }>()
      expect(result.clean).toBe(false)
      expect(result.counts).toEqual({
        mismatch: expected?.mismatch,
        missing_in_shadow: expected?.missing_in_shadow,
        missing_in_legacy: expected?.missing_in_legacy,
      })
      expect(result.differences).toHaveLength(3)
    } finally {
      await writers.stop()
    }
    expect(await db.query("SELECT id::text, status FROM cutover.jobs WHERE kind = 'verify'")).toEqual([
      { id: jobId, status: 'done' },
    ])
    expect(await jobProblems(db, 'orders_v2', ['verify'])).toEqual([])
    const total = (expected?.mismatch ?? 0) + (expected?.missing_in_shadow ?? 0) + (expected?.missing_in_legacy ?? 0)
    expect(
      await db.query(
        "SELECT count(*)::int AS n FROM cutover.divergences WHERE source = 'verify' AND repaired_at IS NULL",
      ),
    ).toEqual([{ n: total }])
    expect(
      await db.query(
        "SELECT count(*)::int AS n FROM cutover.events WHERE kind = 'verify' AND (details ->> 'clean')::boolean = false",
      ),
    ).toEqual([{ n: 1 }])
  }, 120_000)
})
