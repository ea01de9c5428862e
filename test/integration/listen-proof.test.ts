/**
 * Issue 13: a process knows whether it hears. Its LISTEN connection is proven
 * by a notification it sends itself; when the path goes silent (nothing
 * forwarded, nothing closed), it says so within seconds and polls, so a
 * rollback still reaches it within one second.
 */
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Registry } from 'prom-client'
import pg from 'pg'
import { Cutover } from '../../src/cutover/cutover.js'
import { rollback } from '../../src/actions/rollback.js'
import { readStatus } from '../../src/store/state/status-sql.js'
import { freshDatabase } from '../support/database.js'
import { startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy.js'
import { setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
let proxy: FreezableProxy
let pool: pg.Pool
let cutover: Cutover
const registry = new Registry()
const logs: { msg: string }[] = []

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return Date.now() - started
}

async function listeningGauge(): Promise<number | undefined> {
  return (await registry.getSingleMetric('cutover_state_listening')?.get())?.values[0]?.value
}

beforeAll(async () => {
  await setupOrders(db)
  proxy = await startFreezableProxy(db.url)
  pool = new pg.Pool({ connectionString: db.url, max: 4 })
  pool.on('error', () => undefined)
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logs.push(JSON.parse(line) as { msg: string })
      },
    },
  )
  cutover = await Cutover.connect({ pool, registry, logger, listenUrl: proxy.url(db.url) })
  await cutover.migration('orders_v2')
})
afterAll(async () => {
  await cutover?.close()
  await pool?.end()
  await proxy?.stop()
})

describe('a LISTEN connection that proves it hears (issue 13)', () => {
  it('notices within seconds that its LISTEN went silent, says so in the log, the metric and status, and still follows a rollback within one second', async () => {
    await waitFor(() => cutover.watcher.followMode === 'listen', 10_000, 'hearing proven')
    expect(await listeningGauge()).toBe(1)
    await setPhase(db.pool, 'ramp', 50)
    await waitFor(() => cutover.state('orders_v2')?.phase === 'ramp', 5000, 'ramp applied')
    proxy.freeze()
    const noticedMs = await waitFor(() => cutover.watcher.followMode === 'poll', 15_000, 'silence noticed')
    console.log(`[issue 13] a silent LISTEN path was noticed after ${noticedMs} ms`)
    expect(await listeningGauge()).toBe(0)
    expect(logs.some((l) => /did not hear its own notification/.test(l.msg))).toBe(true)
    await waitFor(
      async () => (await readStatus(db.pool, 'cutover', 'orders_v2'))[0]?.listenersPolling === 1,
      10_000,
      'status shows it polling',
    )
    const before = Date.now()
    const result = await rollback(db.pool, {
      schema: 'cutover',
      migration: 'orders_v2',
      actor: 'test',
      reason: 'silent listener',
    })
    await waitFor(() => cutover.state('orders_v2')?.phase === 'dual_write', 10_000, 'rollback applied')
    // From before the call, so it includes the rollback's own transaction: an upper bound.
    const delayMs = Date.now() - before
    console.log(`[issue 13] rollback reached the polling process within ${delayMs} ms of the call`)
    expect(delayMs).toBeLessThan(1000)
    expect(result).toMatchObject({ acknowledged: 1, listeners: 1 })
  })
})
