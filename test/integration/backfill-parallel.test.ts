import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { countedPool } from '../support/counted-pool.js'
import { freshDatabase } from '../support/database.js'
import { jobOf, jobProblems, tableAgreement } from '../support/job-invariants.js'
import { dualWritingOrders, order } from '../support/orders-fixture.js'
import { until } from '../support/until.js'
import { seededRandom } from '../support/writers.js'

const db = await freshDatabase()
const schema = 'cutover'
// Chunks of 50,000 keys, each copied as two parts of 25,000 on two connections at once.
const ROWS = 100_000
const CHUNK = 50_000
const seed = Number(process.env.CUTOVER_SEED ?? Date.now() % 100_000)
let dal: MigrationDal
let close: () => Promise<void>

beforeAll(async () => {
  const orders = await dualWritingOrders(db)
  dal = orders.dal
  close = orders.close
}, 120_000)
afterAll(async () => close())

async function refill(): Promise<void> {
  await db.query(
    'TRUNCATE orders, orders_v2; DELETE FROM cutover.job_chunks; DELETE FROM cutover.jobs; DELETE FROM cutover.divergences',
  )
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents, status, meta)
                  SELECT g, gen_random_uuid()::text, g % 100000, 'new', jsonb_build_object('g', g) FROM generate_series(1, $1::int) g`,
    [ROWS],
  )
  await db.query('ANALYZE orders')
}

describe(`backfill copying each chunk in parts on two connections (seed ${seed}; replay with CUTOVER_SEED=${seed})`, () => {
  it('leaves no ghost row and loses no update while the DAL updates, deletes and inserts the keys being copied', async () => {
    await refill()
    const random = seededRandom(seed)
    let stopped = false
    let writes = 0
    const writers = Array.from({ length: 3 }, async () => {
      while (!stopped) {
        const key = 1 + Math.floor(random() * ROWS)
        const pick = random()
        // Each write takes its number before it waits: three writers once read the same counter and inserted one key twice.
        const n = writes++
        if (pick < 0.4) await dal.update(key, { status: `s${n}`, amount_cents: Math.floor(random() * 100_000) })
        else if (pick < 0.8) await dal.delete(key)
        else await dal.insert(order(1_000_000 + n))
      }
    })
    const counted = countedPool(db.url, 6)
    try {
      const result = await runBackfill(counted.pool, {
        schema,
        migration: 'orders_v2',
        actor: 'test',
        chunkRows: CHUNK,
        targetChunkMs: 0,
        parallel: 2,
      })
      expect(result.rows).toBeGreaterThan(0)
      // Two parts of each chunk ran at once, on two connections.
      expect(counted.peak()).toBe(2)
    } finally {
      stopped = true
      await Promise.all(writers)
      await counted.pool.end()
    }
    expect(writes).toBeGreaterThan(50)
    const agreement = await tableAgreement(db)
    expect(agreement).toMatchObject({ onlyLegacy: 0, onlyShadow: 0 })
    expect(agreement.legacy).toBe(agreement.shadow)
    // The chunks tile the range and their counts add up (not the keys each range holds now: the writers deleted some).
    expect(await jobProblems(db, 'orders_v2')).toEqual([])
    expect(await runVerify(db.pool, { schema, migration: 'orders_v2', actor: 'test' })).toMatchObject({
      clean: true,
      counts: { mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 },
    })
  }, 180_000)

  it('counts each copied row once when the chunk fails after its other part committed, and the resumed job copies the rest', async () => {
    await refill()
    // The chunk's own part (keys 1…25,000) is slowed, so the other part (25,001…50,000) commits first; then the own
    // part's backend is terminated, which fails the chunk: its own part rolls back, the other part's copy stays.
    await db.query(`CREATE FUNCTION slow_first_part() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                      IF NEW.id <= ${CHUNK / 2} THEN PERFORM pg_sleep(0.0004); END IF; RETURN NEW; END $$;
                    CREATE TRIGGER slow_first_part BEFORE INSERT ON orders_v2 FOR EACH ROW EXECUTE FUNCTION slow_first_part();`)
    const first = runBackfill(db.pool, {
      schema,
      migration: 'orders_v2',
      actor: 'test',
      chunkRows: CHUNK,
      targetChunkMs: 0,
      parallel: 2,
    }).then(
      () => 'finished',
      (error: unknown) => error,
    )
    try {
      await until(
        async () =>
          (
            await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM orders_v2 WHERE id > ${CHUNK / 2} AND id <= ${CHUNK}`,
            )
          )[0]?.n ===
          CHUNK / 2,
        60_000,
        'the second part committed',
      )
      const killed = await db.query<{ ok: boolean }>(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'active' AND query LIKE 'INSERT INTO%orders_v2%' AND pid <> pg_backend_pid()`)
      expect(killed).toEqual([{ ok: true }])
      expect(await first).toBeInstanceOf(Error)
    } finally {
      await db.query('DROP TRIGGER IF EXISTS slow_first_part ON orders_v2; DROP FUNCTION IF EXISTS slow_first_part()')
    }
    // The failed run's copy of the second part was counted with it, in its own transaction.
    expect(Number((await jobOf(db, 'orders_v2', 'backfill'))?.status === 'running')).toBe(1)
    expect(
      await db.query("SELECT (details ->> 'copied')::int AS copied FROM cutover.jobs WHERE kind = 'backfill'"),
    ).toEqual([{ copied: CHUNK / 2 }])
    const resumed = await runBackfill(db.pool, {
      schema,
      migration: 'orders_v2',
      actor: 'test',
      chunkRows: CHUNK,
      targetChunkMs: 0,
      parallel: 2,
    })
    expect(resumed).toMatchObject({ isResumed: true, rows: ROWS, copied: ROWS })
    expect(await tableAgreement(db)).toEqual({ legacy: ROWS, shadow: ROWS, onlyLegacy: 0, onlyShadow: 0 })
    expect(await jobProblems(db, 'orders_v2', ['backfill'])).toEqual([])
  }, 180_000)
})
