import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { jobProblems, tableAgreement } from '../support/job-invariants.js'
import { dualWritingOrders } from '../support/orders-fixture.js'
import { startRangeWriters } from '../support/range-writers.js'
import { cliBackendsGone, terminateMidStatement } from '../support/terminate.js'
import { seededRandom } from '../support/writers.js'

const db = await freshDatabase()
const ROWS = 20_000
const seed = Number(process.env.CUTOVER_SEED ?? Date.now() % 100_000)
const random = seededRandom(seed)
let dal: MigrationDal
let close: () => Promise<void>
const options = { schema: 'cutover', migration: 'orders_v2', actor: 'test' }

const REPAIR = ['repair', 'orders_v2', '--database-url', db.url, '--json']
const repaired = async (): Promise<number> =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cutover.divergences WHERE repaired_at IS NOT NULL'))[0]
    ?.n ?? 0

beforeAll(async () => {
  const orders = await dualWritingOrders(db)
  dal = orders.dal
  close = orders.close
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents, status, meta)
                  SELECT g, gen_random_uuid()::text, g % 100000, 'new', jsonb_build_object('g', g) FROM generate_series(1, $1::int) g`,
    [ROWS],
  )
  await runBackfill(db.pool, { ...options, chunkRows: 5000 })
  // Differences behind the DAL's back, in the upper half of the keys, which the writers never touch.
  await db.query(
    `
    UPDATE orders_v2 SET status = 'corrupted' WHERE id > $1 AND id % 7 = 0;
    DELETE FROM orders_v2 WHERE id > $1 AND id % 11 = 0;
    DELETE FROM orders WHERE id > $1 AND id % 13 = 0;`.replaceAll('$1', String(ROWS / 2)),
  )
  expect(await runVerify(db.pool, options)).toMatchObject({ clean: false })
}, 120_000)
afterAll(async () => close())

describe(`repair crashes (seed ${seed}; replay with CUTOVER_SEED=${seed})`, () => {
  it('finishes after a SIGKILL and a connection terminated mid-statement, repairing each divergence once and leaving both tables equal', async () => {
    const [{ planted }] = (await db.query<{ planted: number }>(
      'SELECT count(*)::int AS planted FROM cutover.divergences WHERE repaired_at IS NULL',
    )) as [{ planted: number }]
    expect(planted).toBeGreaterThan(1500)
    const writers = startRangeWriters(dal, { count: 3, updateKeys: ROWS / 2, firstNewKey: 1_000_000, seed })
    try {
      for (const [i, how] of (['sigkill', 'terminate'] as const).entries()) {
        const target = Math.floor(((i + 0.5 + random()) * planted) / 3)
        const reached = async (): Promise<boolean> => (await repaired()) >= target
        if (how === 'sigkill') {
          const killed = await runCli(REPAIR, {}, { killWhen: reached })
          await cliBackendsGone(db)
          expect(killed.code, killed.stderr).toBeNull()
        } else {
          const run = runCli(REPAIR)
          // Each repair statement fixes one key in about a millisecond, too short to be seen running: once the target is
          // reached, the CLI's statements are held a moment (its writes to the shadow sleep), so the kill finds one.
          let isHeld = false
          const holdThenReached = async (): Promise<boolean> => {
            if (!isHeld && (await reached())) {
              await db.query(`CREATE FUNCTION hold_cli() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                                IF current_setting('application_name') = 'cutover-cli' THEN PERFORM pg_sleep(0.2); END IF; RETURN NULL; END $$;
                              CREATE TRIGGER hold_cli AFTER INSERT OR UPDATE OR DELETE ON orders_v2 FOR EACH ROW EXECUTE FUNCTION hold_cli();`)
              isHeld = true
            }
            return isHeld
          }
          const terminated = await terminateMidStatement(db, 'WITH fix AS', holdThenReached, run)
          await db.query('DROP TRIGGER IF EXISTS hold_cli ON orders_v2; DROP FUNCTION IF EXISTS hold_cli()')
          expect(terminated).toBeGreaterThan(0)
          const failed = await run
          expect(failed.code, failed.stderr).toBe(3)
          expect(failed.stderr).toMatch(/^cutover: cannot reach the database/)
        }
        const done = await repaired()
        expect(done).toBeGreaterThanOrEqual(target)
        expect(done).toBeLessThan(planted)
        // A divergence is marked repaired only together with its key's repair, in one statement.
        expect(
          await db.query(`SELECT d.id FROM cutover.divergences d
          LEFT JOIN orders o ON o.id = (d.key ->> 'id')::bigint LEFT JOIN orders_v2 s ON s.id = (d.key ->> 'id')::bigint
          WHERE d.repaired_at IS NOT NULL AND ((o.id IS NULL) <> (s.id IS NULL) OR s.status IS DISTINCT FROM o.status)`),
        ).toEqual([])
      }
      const before = await repaired()
      const finished = await runCli(REPAIR)
      expect(finished.code, finished.stderr).toBe(0)
      // (Its --json document, listing every key, is not read: the CLI exits before a large one has drained into a pipe.)
      expect(
        await db.query("SELECT (details ->> 'rows')::int AS rows FROM cutover.events WHERE kind = 'repair'"),
      ).toEqual([{ rows: planted - before }])
    } finally {
      await writers.stop()
    }
    expect(
      await db.query(
        'SELECT count(*)::int AS total, count(*) FILTER (WHERE repaired_at IS NOT NULL)::int AS repaired FROM cutover.divergences',
      ),
    ).toEqual([{ total: planted, repaired: planted }])
    expect(await db.query("SELECT count(*)::int AS n FROM cutover.events WHERE kind = 'repair'")).toEqual([{ n: 1 }])
    const agreement = await tableAgreement(db)
    expect(agreement).toEqual({ legacy: agreement.legacy, shadow: agreement.legacy, onlyLegacy: 0, onlyShadow: 0 })
    expect(await runVerify(db.pool, options)).toMatchObject({ clean: true, rowsCompared: agreement.legacy })
    expect(await jobProblems(db, 'orders_v2')).toEqual([])
  }, 120_000)
})
