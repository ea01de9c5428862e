import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBackfill } from '../../src/jobs/backfill.js'
import { readStatus } from '../../src/store/state/status-sql.js'
import type { Cutover } from '../../src/dal/cutover.js'
import type pg from 'pg'
import type { Registry } from 'prom-client'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const READ_KEYS = 50
const ROWS = 3000
let cutover: Cutover
let registry: Registry
let dalPool: pg.Pool

/** Polls `probe` until it returns true, up to `ms` (a deadline, never a count of polls). */
async function until(probe: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

beforeAll(async () => {
  // A switch that makes every read served by the shadow slow, through the backward mapping (as the demo's demo_latency does).
  await db.query(`CREATE TABLE shadow_delay (seconds float8 NOT NULL);
                  INSERT INTO shadow_delay VALUES (0);
                  CREATE FUNCTION shadow_delay() RETURNS void LANGUAGE sql VOLATILE AS 'SELECT pg_sleep((SELECT seconds FROM shadow_delay))';`)
  await setupOrders(db, { backward: { customer_id: 'customer::text', amount_cents: '(amount * 100)::int', status: '(SELECT status FROM (SELECT shadow_delay()) AS d)' } })
  ;({ cutover, registry, pool: dalPool } = await connectCutover(db, { random: () => 1 }))
  const dal = await cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
  await dal.insertMany(Array.from({ length: READ_KEYS }, (_, i) => order(i + 1)))
  // Rows written before the dual write: only the backfill puts them in the shadow.
  await db.query(`INSERT INTO orders (id, customer_id, amount_cents, status) SELECT g, gen_random_uuid()::text, g, 'new' FROM generate_series(${READ_KEYS + 1}, ${READ_KEYS + ROWS}) g`)
  await setPhase(db.pool, 'ramp', 100)
  await cutover.watcher.poll()
})

afterAll(async () => {
  await cutover?.close()
  await dalPool?.end()
})

describe('backfill throttled on the application p99 (the DAL in this process)', () => {
  it('holds its chunks with the reason while shadow reads are slow, and goes on when they are fast again', async () => {
    const dal = await cutover.migration('orders_v2')
    let reading = true
    const reader = (async () => {
      for (let i = 0; reading; i++) await dal.get((i % READ_KEYS) + 1)
    })()
    const events: { kind: 'chunk' | 'throttled' | 'resumed'; reason?: string }[] = []
    const warnings: string[] = []
    const logger = { info: () => undefined, debug: () => undefined, warn: (_: Record<string, unknown>, message: string) => { warnings.push(message) } }
    const throttled = async (): Promise<number> => (await registry.getSingleMetric('cutover_job_throttled')?.get())?.values[0]?.value ?? -1
    try {
      const run = runBackfill(db.pool, {
        schema: 'cutover', migration: 'orders_v2', actor: 'test', chunkRows: 100, targetChunkMs: 0, maxRowsPerSecond: 300,
        maxAppP99Ms: 200, appLatency: { registry, windowSeconds: 2 }, throttleCheckMs: 100, registry, logger,
        onProgress: () => { events.push({ kind: 'chunk' }) },
        onThrottle: (reason) => { events.push(reason === null ? { kind: 'resumed' } : { kind: 'throttled', reason }) },
      })
      let failure: unknown
      run.catch((error: unknown) => { failure = error })
      const orFailure = (holds: boolean): boolean => {
        if (failure !== undefined) throw failure
        return holds
      }
      await until(() => orFailure(events.filter((e) => e.kind === 'chunk').length >= 2), 30_000, 'two chunks copied')
      await db.query('UPDATE shadow_delay SET seconds = 0.5')
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
      const held = (await db.query<{ rows_done: string }>("SELECT rows_done FROM cutover.jobs WHERE migration = 'orders_v2' AND kind = 'backfill'"))[0]?.rows_done
      expect(Number(held)).toBeLessThan(ROWS + READ_KEYS)

      await db.query('UPDATE shadow_delay SET seconds = 0')
      const result = await run
      expect(result.copied).toBe(ROWS)
      const kinds = events.map((e) => e.kind)
      const from = kinds.indexOf('throttled')
      const to = kinds.indexOf('resumed')
      expect(to).toBeGreaterThan(from)
      // One worker: no chunk ran between the hold and the go-on, and the copy finished after it.
      expect(kinds.slice(from + 1, to).filter((k) => k !== 'throttled')).toEqual([])
      expect(kinds.slice(to + 1)).toContain('chunk')
      expect(await throttled()).toBe(0)
      const [after] = await readStatus(db.pool, 'cutover', 'orders_v2')
      expect(after?.backfill.throttled).toBeNull()
      expect(await db.query('SELECT count(*)::int AS n FROM orders_v2')).toEqual([{ n: ROWS + READ_KEYS }])
    } finally {
      reading = false
      await reader
      await db.query('UPDATE shadow_delay SET seconds = 0')
    }
  }, 180_000)
})
