import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Registry } from 'prom-client'
import type { Cutover } from '../../src/cutover/cutover.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const opened: { cutover: Cutover; pool: { end(): Promise<void> } }[] = []

async function open(random = () => 1): Promise<{ cutover: Cutover; registry: Registry }> {
  const connected = await connectCutover(db, { random })
  opened.push(connected)
  return connected
}

async function counter(registry: Registry, trigger: string): Promise<number> {
  return (
    (await registry.getSingleMetric('cutover_rollbacks_total')?.get())?.values.find((v) => v.labels.trigger === trigger)
      ?.value ?? 0
  )
}

beforeAll(async () => {
  // A switch that makes every read served by the shadow slow, through the backward mapping.
  await db.query(`CREATE TABLE shadow_delay (seconds float8 NOT NULL);
                  INSERT INTO shadow_delay VALUES (0);
                  CREATE FUNCTION shadow_delay() RETURNS boolean LANGUAGE sql STABLE AS 'SELECT true FROM pg_sleep((SELECT seconds FROM public.shadow_delay))';`)
  await setupOrders(db, {
    backward: {
      customer_id: 'customer::text',
      amount_cents: '(amount * 100)::int',
      status: '(SELECT status FROM (SELECT public.shadow_delay() AS slept) AS d WHERE d.slept)',
    },
    guardrails: { maxP99Ratio: 4, maxDivergencesPerMinute: 30, windowSeconds: 10, minSamples: 20 },
  })
  const { cutover } = await open()
  const dal = await cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
  await dal.insertMany(Array.from({ length: 300 }, (_, i) => order(i + 1)))
})

afterEach(async () => {
  await db.query('UPDATE shadow_delay SET seconds = 0')
  await db.query('UPDATE orders_v2 o SET status = l.status FROM orders l WHERE l.id = o.id')
  await db.query('DELETE FROM cutover.divergences')
  for (const { cutover, pool } of opened.splice(0)) {
    await cutover.close()
    await pool.end()
  }
})

/**
 * Reads until `done()`, for at most `seconds`. Bounded by time, not by a count of
 * reads: the guardrail judges at most once a second, so on a fast machine a fixed
 * number of reads can all fall inside the first second and never be judged.
 */
async function readUntil(read: () => Promise<unknown>, done: () => boolean, seconds: number): Promise<number> {
  const deadline = Date.now() + seconds * 1000
  for (let i = 0; Date.now() < deadline; i++) {
    await read()
    if (done()) return i + 1
  }
  throw new Error(`no rollback after ${seconds} s of reads`)
}

describe('guardrails', () => {
  it('roll back by themselves when shadow reads get slow, with an event naming the bound and the measured value', async () => {
    const { cutover, registry } = await open()
    const dal = await cutover.migration('orders_v2')
    await setPhase(db.pool, 'ramp', 50)
    await cutover.watcher.poll()
    for (let id = 1; id <= 200; id++) await dal.get(id)
    expect(cutover.state('orders_v2')?.phase).toBe('ramp')
    await db.query('UPDATE shadow_delay SET seconds = 0.03')
    let id = 0
    await readUntil(
      () => dal.get((id++ % 300) + 1),
      () => cutover.state('orders_v2')?.phase === 'dual_write',
      45,
    )
    await cutover.flush()
    const events = await db.query<{
      kind: string
      actor: string
      reason: string
      details: Record<string, unknown>
      to_phase: string
    }>("SELECT kind, actor, reason, details, to_phase FROM cutover.events WHERE kind = 'guardrail_rollback'")
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      to_phase: 'dual_write',
      actor: expect.stringMatching(/^guardrail@/),
      details: { bound: 'p99_ratio', limit: 4 },
    })
    expect(events[0]?.reason).toMatch(/^guardrail: shadow read p99 .* above the bound of 4x$/)
    expect(Number(events[0]?.details.measured)).toBeGreaterThan(4)
    expect(await counter(registry, 'guardrail')).toBe(1)
  })

  it('roll back when injected divergences cross the rate bound, and two instances crossing at once make one rollback', async () => {
    const [{ last }] = (await db.query<{ last: string }>('SELECT max(id)::text AS last FROM cutover.events')) as [
      { last: string },
    ]
    const a = await open(() => 0)
    const b = await open(() => 0)
    const dalA = await a.cutover.migration('orders_v2')
    const dalB = await b.cutover.migration('orders_v2')
    await setPhase(db.pool, 'shadow_read')
    await Promise.all([a.cutover.watcher.poll(), b.cutover.watcher.poll()])
    await db.query("UPDATE orders_v2 SET status = 'corrupt' WHERE id <= 100")
    let id = 0
    const rolledBack = () =>
      a.cutover.state('orders_v2')?.phase === 'dual_write' && b.cutover.state('orders_v2')?.phase === 'dual_write'
    await readUntil(() => Promise.all([dalA.get((id % 100) + 1), dalB.get((id++ % 100) + 1)]), rolledBack, 30)
    await Promise.all([a.cutover.flush(), b.cutover.flush()])
    const events = await db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM cutover.events WHERE kind = 'guardrail_rollback' AND id > $1",
      [last],
    )
    expect(events).toHaveLength(1)
    expect(events[0]?.details).toMatchObject({ bound: 'divergence_rate', limit: 30 })
    expect((await counter(a.registry, 'guardrail')) + (await counter(b.registry, 'guardrail'))).toBe(1)
  })

  it('stay quiet when the shadow is as fast as legacy and nothing diverges', async () => {
    const { cutover } = await open(() => 0)
    const dal = await cutover.migration('orders_v2')
    await setPhase(db.pool, 'ramp', 50)
    await cutover.watcher.poll()
    for (let round = 0; round < 3; round++) for (let id = 1; id <= 300; id++) await dal.get(id)
    await cutover.flush()
    expect(cutover.state('orders_v2')?.phase).toBe('ramp')
  })
})
