import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { readStatus } from '../../src/store/state/status-sql.js'
import { runCli } from '../support/cli.js'
import { throttleRecorder } from '../support/throttle-recorder.js'
import { freshDatabase } from '../support/database.js'
import { setupSlowShadowOrders, until, type SlowShadowOrders } from '../support/slow-shadow-orders.js'

const db = await freshDatabase()
const READ_KEYS = 50
const ROWS = 3000
let app: SlowShadowOrders

beforeAll(async () => {
  app = await setupSlowShadowOrders(db, READ_KEYS, ROWS)
})

afterAll(async () => {
  await app?.cutover.close()
  await app?.pool.end()
})

describe('backfill throttled on the application p99 (the DAL in this process)', () => {
  it('holds its chunks with the reason while shadow reads are slow, and goes on when they are fast again', async () => {
    const { registry } = app
    const stopReading = app.readContinuously()
    const {
      events,
      warnings,
      logger,
      onProgress,
      onThrottle,
      gauge: throttled,
      watch,
      expectHeldThenResumed,
    } = throttleRecorder(registry)
    try {
      const run = runBackfill(db.pool, {
        schema: 'cutover',
        migration: 'orders_v2',
        actor: 'test',
        chunkRows: 100,
        targetChunkMs: 0,
        maxRowsPerSecond: 300,
        maxAppP99Ms: 200,
        appLatency: { registry, windowSeconds: 2 },
        throttleCheckMs: 100,
        registry,
        logger,
        onProgress,
        onThrottle,
      })
      const orFailure = watch(run)
      await until(() => orFailure(events.filter((e) => e.kind === 'chunk').length >= 2), 30_000, 'two chunks copied')
      await app.setShadowDelay(0.5)
      await until(() => orFailure(events.some((e) => e.kind === 'throttled')), 60_000, 'the throttle')

      const reason = events.find((e) => e.kind === 'throttled')?.reason ?? ''
      expect(reason).toMatch(/^application p99 \d+ ms > 200 ms \(in-process\)$/)
      expect(Number(/p99 (\d+) ms/.exec(reason)?.[1])).toBeGreaterThan(200)
      expect(warnings).toContain(`backfill of orders_v2 throttled: ${reason}`)
      expect(await throttled()).toBe(1)
      const [status] = await readStatus(db.pool, 'cutover', 'orders_v2')
      expect(status?.backfill.throttled).toMatch(/^application p99 \d+ ms > 200 ms \(in-process\)$/)
      const shown = await runCli(['status', 'orders_v2', '--database-url', db.url])
      expect(shown.stdout).toMatch(/throttled: application p99 \d+ ms > 200 ms \(in-process\)\n/)
      const held = (
        await db.query<{ rows_done: string }>(
          "SELECT rows_done FROM cutover.jobs WHERE migration = 'orders_v2' AND kind = 'backfill'",
        )
      )[0]?.rows_done
      expect(Number(held)).toBeLessThan(ROWS + READ_KEYS)

      await app.setShadowDelay(0)
      const result = await run
      expect(result.copied).toBe(ROWS)
      await expectHeldThenResumed()
      const [after] = await readStatus(db.pool, 'cutover', 'orders_v2')
      expect(after?.backfill.throttled).toBeNull()
      expect(await db.query('SELECT count(*)::int AS n FROM orders_v2')).toEqual([{ n: ROWS + READ_KEYS }])
    } finally {
      await stopReading()
      await app.setShadowDelay(0)
    }
  }, 180_000)
})
