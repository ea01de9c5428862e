import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runCli } from '../support/cli.js'
import { hasReached, jobOf, jobProblems } from '../support/job-invariants.js'
import { startRestartableOrders, type RestartableOrders } from '../support/restartable-orders.js'
import { seededRandom } from '../support/writers.js'

const ROWS = 60_000
const seed = Number(process.env.CUTOVER_SEED ?? Date.now() % 100_000)
const random = seededRandom(seed)
let fixture: RestartableOrders

beforeAll(async () => {
  fixture = await startRestartableOrders(ROWS, seed)
  await runBackfill(fixture.db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'test', chunkRows: 10_000 })
}, 120_000)
afterAll(async () => fixture.close())

describe(`PostgreSQL restarted during verify (seed ${seed}; replay with CUTOVER_SEED=${seed})`, () => {
  it('verify resumes the same job after the server crashed under it and counts every difference once', async () => {
    const { db } = fixture
    // Differences behind the DAL's back, in keys the writers never touch.
    await db.query(`UPDATE orders_v2 SET status = 'corrupted' WHERE id > ${ROWS / 2} AND id % 7 = 0;
                    DELETE FROM orders_v2 WHERE id > ${ROWS / 2} AND id % 11 = 0`)
    const [expected] = await db.query<{ mismatch: number; missing: number }>(`SELECT
        count(*) FILTER (WHERE s.id IS NOT NULL AND s.status IS DISTINCT FROM o.status)::int AS mismatch, count(*) FILTER (WHERE s.id IS NULL)::int AS missing
      FROM orders o LEFT JOIN orders_v2 s ON s.id = o.id`)
    const verify = ['verify', 'orders_v2', '--database-url', db.url, '--json', '--limit', '1']
    const target = Math.floor(((1 + random()) * ROWS) / 4)
    await fixture.crashDuring(verify, () => hasReached(db, 'orders_v2', 'verify', target))
    const job = await jobOf(db, 'orders_v2', 'verify')
    expect(job?.status).toBe('running')
    expect(await jobProblems(db, 'orders_v2', ['backfill', 'verify'])).toEqual([])
    const verified = await runCli(verify)
    expect(verified.code, verified.stderr).toBe(1)
    expect(verified.json()).toMatchObject({
      clean: false,
      counts: { mismatch: expected?.mismatch, missing_in_shadow: expected?.missing, missing_in_legacy: 0 },
    })
    expect(await db.query("SELECT id::text, status FROM cutover.jobs WHERE kind = 'verify'")).toEqual([
      { id: job?.id, status: 'done' },
    ])
    expect(await jobProblems(db, 'orders_v2', ['verify'])).toEqual([])
    const { errors } = await fixture.stopWriters()
    expect(errors).toBeGreaterThan(0)
  }, 120_000)
})
