import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { hasReached, jobOf, jobProblems, tableAgreement } from '../support/job-invariants.js'
import { dualWritingOrders } from '../support/orders-fixture.js'
import { startRangeWriters } from '../support/range-writers.js'
import { cliBackendsGone, terminateMidStatement } from '../support/terminate.js'
import { seededRandom } from '../support/writers.js'

const db = await freshDatabase()
const ROWS = 100_000
const seed = Number(process.env.CUTOVER_SEED ?? Date.now() % 100_000)
const random = seededRandom(seed)
let dal: MigrationDal
let close: () => Promise<void>

const BACKFILL = [
  'backfill',
  'orders_v2',
  '--database-url',
  db.url,
  '--chunk-rows',
  '1000',
  '--max-rows-per-second',
  '40000',
  '--lease-seconds',
  '2',
  '--json',
]

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
}, 120_000)
afterAll(async () => close())

describe(`backfill crashes (seed ${seed}; replay with CUTOVER_SEED=${seed})`, () => {
  it('resumes after SIGKILLs and connections terminated mid-statement at random points, with one running job, each range done once, and no row lost or duplicated', async () => {
    const writers = startRangeWriters(dal, { count: 3, updateKeys: ROWS, firstNewKey: 1_000_000, seed })
    let jobId: string | undefined
    try {
      for (const [i, how] of (['sigkill', 'terminate', 'sigkill', 'terminate'] as const).entries()) {
        // A random point: once the job has gone between (i + 0.5) / 6 and (i + 1.5) / 6 of the table
        // (chunks adapt toward 200 ms, so the process is then in a chunk's statement or in a throttle wait).
        const target = Math.floor(((i + 0.5 + random()) * ROWS) / 6)
        const reached = (): Promise<boolean> => hasReached(db, 'orders_v2', 'backfill', target)
        if (how === 'sigkill') {
          const killed = await runCli(BACKFILL, {}, { killWhen: reached })
          await cliBackendsGone(db)
          expect(killed.code, `${how}: ${killed.stderr}`).toBeNull()
        } else {
          const run = runCli(BACKFILL)
          expect(await terminateMidStatement(db, 'WITH src AS', reached, run)).toBeGreaterThan(0)
          const failed = await run
          expect(failed.code, failed.stderr).toBe(3)
          expect(failed.stderr).toMatch(
            /^cutover: (backfill of orders_v2 \(job \d+\) failed: .*resumes where it stopped: cutover backfill orders_v2|cannot reach )/,
          )
          // The terminated chunk was given back over a fresh connection: the next run need not wait out its lease.
          expect(
            await db.query(
              "SELECT chunk_no FROM cutover.job_chunks WHERE status = 'leased' AND lease_until > clock_timestamp()",
            ),
          ).toEqual([])
        }
        const job = await jobOf(db, 'orders_v2', 'backfill')
        expect(job?.status).toBe('running')
        jobId ??= job?.id
        expect(job?.id).toBe(jobId)
        expect(await jobProblems(db, 'orders_v2', ['backfill'])).toEqual([])
      }
      const finished = await runCli(BACKFILL)
      expect(finished.code, finished.stderr).toBe(0)
      // Every legacy key of the job's range, fixed at its start (writers' keys inserted before it included), counted once.
      const [inRange] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM orders WHERE id <= (SELECT (high_key ->> 0)::bigint FROM cutover.jobs WHERE kind = 'backfill')",
      )
      expect(inRange?.n).toBeGreaterThanOrEqual(ROWS)
      expect(finished.json()).toMatchObject({ migration: 'orders_v2', rows: inRange?.n, resumed: true })
    } finally {
      const { writes } = await writers.stop()
      expect(writes).toBeGreaterThan(50)
    }
    expect(await db.query("SELECT id::text, status FROM cutover.jobs WHERE kind = 'backfill'")).toEqual([
      { id: jobId, status: 'done' },
    ])
    expect(await jobProblems(db, 'orders_v2', ['backfill'])).toEqual([])
    // The interrupted chunks were taken over and done once, not skipped. Counted as take-overs, not chunks: a run that
    // resumes takes the killed run's chunk over first, and the next interruption may land on that same chunk again.
    const [retaken] = await db.query<{ n: number }>(
      'SELECT coalesce(sum(attempts - 1), 0)::int AS n FROM cutover.job_chunks',
    )
    expect(retaken?.n).toBeGreaterThanOrEqual(2)
    expect(await db.query("SELECT count(*)::int AS n FROM cutover.events WHERE kind = 'backfill'")).toEqual([{ n: 1 }])

    const agreement = await tableAgreement(db)
    expect(agreement).toEqual({ legacy: agreement.legacy, shadow: agreement.legacy, onlyLegacy: 0, onlyShadow: 0 })
    const verify = await runCli(['verify', 'orders_v2', '--database-url', db.url, '--json', '--limit', '5'])
    expect(verify.code, verify.stderr).toBe(0)
    expect(verify.json()).toMatchObject({
      clean: true,
      rowsCompared: agreement.legacy,
      counts: { mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 },
    })
  }, 120_000)
})
