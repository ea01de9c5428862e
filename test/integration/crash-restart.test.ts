import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { runCli } from '../support/cli.js'
import { hasReached, jobOf, jobProblems, tableAgreement } from '../support/job-invariants.js'
import { startRestartableOrders, type RestartableOrders } from '../support/restartable-orders.js'
import { seededRandom } from '../support/writers.js'

const ROWS = 60_000
const seed = Number(process.env.CUTOVER_SEED ?? Date.now() % 100_000)
const random = seededRandom(seed)
let fixture: RestartableOrders
const options = { schema: 'cutover', migration: 'orders_v2', actor: 'test' }

beforeAll(async () => {
  fixture = await startRestartableOrders(ROWS, seed)
}, 120_000)
afterAll(async () => fixture.close())

describe(`PostgreSQL restarted during backfill and repair (seed ${seed}; replay with CUTOVER_SEED=${seed})`, () => {
  it('backfill resumes after the server crashed under it: one running job, each range done once, every legacy row copied once', async () => {
    const { db } = fixture
    const backfill = [
      'backfill',
      'orders_v2',
      '--database-url',
      db.url,
      '--json',
      '--chunk-rows',
      '1000',
      '--max-rows-per-second',
      '30000',
      '--lease-seconds',
      '2',
    ]
    const target = Math.floor(((1 + random()) * ROWS) / 4)
    await fixture.crashDuring(backfill, () => hasReached(db, 'orders_v2', 'backfill', target))
    expect((await jobOf(db, 'orders_v2', 'backfill'))?.status).toBe('running')
    expect(await jobProblems(db, 'orders_v2', ['backfill'])).toEqual([])
    const finished = await runCli(backfill)
    expect(finished.code, finished.stderr).toBe(0)
    expect(finished.json()).toMatchObject({ resumed: true })
    expect(
      await db.query("SELECT count(*)::int AS n, min(status) AS status FROM cutover.jobs WHERE kind = 'backfill'"),
    ).toEqual([{ n: 1, status: 'done' }])
    expect(await jobProblems(db, 'orders_v2', ['backfill'])).toEqual([])
  }, 300_000)

  it('repair finishes after the server crashed under it, each divergence repaired once, and the tables end equal', async () => {
    const { db } = fixture
    // Differences behind the DAL's back, in keys the writers never touch.
    await db.query(`UPDATE orders_v2 SET status = 'corrupted' WHERE id > ${ROWS / 2} AND id % 19 = 0;
                    DELETE FROM orders_v2 WHERE id > ${ROWS / 2} AND id % 23 = 0`)
    const found = await runVerify(db.pool, options)
    const planted = found.counts.mismatch + found.counts.missing_in_shadow
    expect(planted).toBeGreaterThan(2000)
    const repair = ['repair', 'orders_v2', '--database-url', db.url, '--json']
    const repaired = async (): Promise<number> =>
      (
        await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM cutover.divergences WHERE repaired_at IS NOT NULL',
        )
      )[0]?.n ?? 0
    const target = Math.floor(((1 + random()) * planted) / 4)
    await fixture.crashDuring(repair, async () => (await repaired()) >= target)
    const before = await repaired()
    expect(before).toBeLessThan(planted)
    const finished = await runCli(repair)
    expect(finished.code, finished.stderr).toBe(0)
    // (Its --json document, listing every key, is not read: the CLI exits before a large one has drained into a pipe.)
    expect(
      await db.query("SELECT (details ->> 'rows')::int AS rows FROM cutover.events WHERE kind = 'repair'"),
    ).toEqual([{ rows: planted - before }])
    expect(
      await db.query(
        'SELECT count(*)::int AS total, count(*) FILTER (WHERE repaired_at IS NULL)::int AS open FROM cutover.divergences',
      ),
    ).toEqual([{ total: planted, open: 0 }])

    const { writes, errors } = await fixture.stopWriters()
    expect(writes).toBeGreaterThan(20)
    expect(errors).toBeGreaterThan(0)
    const agreement = await tableAgreement(db)
    expect(agreement).toEqual({ legacy: agreement.legacy, shadow: agreement.legacy, onlyLegacy: 0, onlyShadow: 0 })
    expect(await runVerify(db.pool, options)).toMatchObject({ clean: true, rowsCompared: agreement.legacy })
    expect(await jobProblems(db, 'orders_v2')).toEqual([])
  }, 300_000)
})
