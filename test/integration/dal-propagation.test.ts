import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Registry } from 'prom-client'
import type { Cutover } from '../../src/cutover/cutover.js'
import { freshDatabase } from '../support/database.js'
import { runTsx } from '../support/run-tsx.js'
import { connectCutover, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
let cutover: Cutover
let registry: Registry
let close: () => Promise<void>

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return Date.now() - started
}

beforeAll(async () => {
  await setupOrders(db)
  const connected = await connectCutover(db)
  ;({ cutover, registry } = connected)
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
  await cutover.migration('orders_v2')
})
afterAll(async () => close())

describe('live state', () => {
  it('applies a rollback committed by a second process within a second, acknowledges it, and records the propagation time', async () => {
    await setPhase(db.pool, 'ramp', 50)
    await waitFor(() => cutover.state('orders_v2')?.phase === 'ramp', 2000)
    const child = await runTsx(fileURLToPath(new URL('../support/rollback-child.ts', import.meta.url)), ['orders_v2'], {
      CUTOVER_CHILD_URL: db.url,
    })
    expect(child.stderr).toBe('')
    const result = JSON.parse(child.stdout) as {
      to: { phase: string; readPercent: number }
      acknowledged: number
      listeners: number
    }
    expect(result.to).toEqual({ phase: 'dual_write', readPercent: 0 })
    expect(result.listeners).toBe(1)
    expect(result.acknowledged).toBe(1)
    expect(cutover.state('orders_v2')).toMatchObject({ phase: 'dual_write', readPercent: 0 })
    const histogram = (await registry.getSingleMetric('cutover_state_propagation_seconds')?.get())?.values
    const count =
      histogram?.find((v) => (v as { metricName?: string }).metricName === 'cutover_state_propagation_seconds_count')
        ?.value ?? 0
    const sum =
      histogram?.find((v) => (v as { metricName?: string }).metricName === 'cutover_state_propagation_seconds_sum')
        ?.value ?? Infinity
    expect(count).toBeGreaterThanOrEqual(2)
    expect(sum / count).toBeLessThan(1)
    const events = await db.query(
      "SELECT actor, kind, reason, from_phase, to_phase FROM cutover.events WHERE kind = 'rollback'",
    )
    expect(events).toEqual([
      { actor: 'child', kind: 'rollback', reason: 'propagation test', from_phase: 'ramp', to_phase: 'dual_write' },
    ])
  })

  it('falls back to polling when its listening connection is killed, still converges, and listens again', async () => {
    const killed = await db.query<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'cutover-listener' AND datname = current_database()",
    )
    expect(killed).toEqual([{ ok: true }])
    await waitFor(() => !cutover.watcher.isListening, 2000)
    await setPhase(db.pool, 'shadow_read')
    await waitFor(() => cutover.state('orders_v2')?.phase === 'shadow_read', 3000)
    await waitFor(() => cutover.watcher.isListening, 10_000)
    await setPhase(db.pool, 'ramp', 5)
    await waitFor(() => cutover.state('orders_v2')?.readPercent === 5, 2000)
  })

  it('keeps the last state applied while the state table cannot be read, and writes keep going to both sides', async () => {
    await setPhase(db.pool, 'ramp', 100)
    await waitFor(() => cutover.state('orders_v2')?.readPercent === 100, 2000)
    const before = cutover.state('orders_v2')
    await db.query('ALTER TABLE cutover.state RENAME TO state_hidden')
    try {
      await expect(cutover.watcher.poll()).rejects.toThrow(/state/)
      expect(cutover.state('orders_v2')).toEqual(before)
      const dal = await cutover.migration('orders_v2')
      await dal.insert({ id: '900', customer_id: '6f1c2b36-3d4e-4f51-9a67-0123456789ab', amount_cents: 1 })
      expect(await db.query('SELECT id::text FROM orders_v2 WHERE id = 900')).toEqual([{ id: '900' }])
      expect(await dal.get(900)).toMatchObject({ id: '900' })
    } finally {
      await db.query('ALTER TABLE cutover.state_hidden RENAME TO state')
    }
  })
})
