/**
 * Issue 13: application processes behind a transaction pooler (a real PgBouncer,
 * pool_mode=transaction) follow a rollback within one second, whether they
 * LISTEN on a direct connection or, their LISTEN lost in the pooler, poll;
 * and the CLI's acknowledgement count is true either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { Follower } from '../support/followers.js'
import { setPhase, setupOrders } from '../support/orders-fixture.js'
import { poolerUnavailable, startPooler, type Pooler } from '../support/pooler.js'

const skip = poolerUnavailable()
const db = await freshDatabase()
let pooler: Pooler
const followers: Follower[] = []

beforeAll(async () => {
  if (skip) return
  pooler = (await startPooler(inject('adminUrl'))) as Pooler
  await setupOrders(db)
})
afterAll(async () => {
  await Promise.all(followers.map((f) => f.stop()))
  await pooler?.stop()
})

const cli = (...args: string[]) =>
  runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'pooler test'])

async function version(): Promise<number> {
  return Number(
    (await db.query<{ v: string }>("SELECT version::text AS v FROM cutover.state WHERE migration = 'orders_v2'"))[0]?.v,
  )
}

/** Ramps, lets every follower apply it, rolls back with the CLI on the direct URL; each follower's delay from the rollback's event (written before its commit). */
async function rollbackDelays(
  group: readonly Follower[],
): Promise<{ delaysMs: number[]; cli: { acknowledged: number; listeners: number } }> {
  await setPhase(db.pool, 'ramp', 50)
  const ramped = await version()
  await Promise.all(group.map((f) => f.appliedAt(ramped, 10_000)))
  const result = await cli('rollback', 'orders_v2', '--json')
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  const rolledBack = await version()
  const [event] = await db.query<{ at_ms: number }>(
    "SELECT (extract(epoch FROM at) * 1000)::float8 AS at_ms FROM cutover.events WHERE kind = 'rollback' ORDER BY id DESC LIMIT 1",
  )
  const applied = await Promise.all(group.map((f) => f.appliedAt(rolledBack, 10_000)))
  return {
    delaysMs: applied.map((at) => Math.round(at - (event?.at_ms ?? Number.NaN))),
    cli: result.json<{ acknowledged: number; listeners: number }>(),
  }
}

describe.skipIf(skip)('behind a transaction pooler (issue 13)', () => {
  it('a rollback run on the direct URL reaches three processes pooled through PgBouncer, listening on a direct listenUrl, within one second each, and all three acknowledge', async () => {
    const group = await Promise.all([1, 2, 3].map(() => Follower.start(pooler.url(db.name), db.url)))
    followers.push(...group)
    await Promise.all(
      group.map((f) => f.until(() => f.followMode === 'listen', 30_000, 'prove it hears its notifications')),
    )
    expect(group.map((f) => f.statementMode)).toEqual(['unnamed', 'unnamed', 'unnamed'])
    const { delaysMs, cli: ack } = await rollbackDelays(group)
    console.log(
      `[issue 13] rollback to 3 pooled processes listening on a direct URL: ${delaysMs.join(', ')} ms after its event`,
    )
    for (const d of delaysMs) expect(d).toBeLessThan(1000)
    expect(ack).toMatchObject({ acknowledged: 3, listeners: 3 })
    // Each records its real LISTEN backend, not a pooler's made-up process id.
    const listeners = await db.query(
      `SELECT i.follow_mode, a.application_name FROM cutover.instances i JOIN pg_stat_activity a ON a.pid = i.backend_pid ORDER BY i.id`,
    )
    expect(listeners).toEqual(Array(3).fill({ follow_mode: 'listen', application_name: 'cutover-listener' }))
    await Promise.all(group.map((f) => f.stop()))
  }, 180_000)

  it('a process whose LISTEN goes through the pooler finds it hears nothing, says so in status and doctor, and still follows a rollback within one second', async () => {
    const group = await Promise.all([1, 2, 3].map(() => Follower.start(pooler.url(db.name))))
    followers.push(...group)
    // Its own notification never comes back through PgBouncer: status says so within seconds.
    const deadline = Date.now() + 15_000
    let polling = 0
    while (polling !== 3) {
      if (Date.now() > deadline) throw new Error(`status showed ${polling} of 3 processes polling after 15 s`)
      await new Promise((r) => setTimeout(r, 200))
      polling =
        (await cli('status', 'orders_v2', '--json')).json<{ migrations: { listenersPolling: number }[] }>()
          .migrations[0]?.listenersPolling ?? 0
    }
    const doctor = (await cli('doctor', '--json')).json<{ findings: { code: string }[] }>()
    expect(doctor.findings.filter((f) => f.code === 'listener_not_hearing')).toHaveLength(3)
    expect(await db.query('SELECT follow_mode, backend_pid FROM cutover.instances')).toEqual(
      Array(3).fill({ follow_mode: 'poll', backend_pid: null }),
    )
    const { delaysMs, cli: ack } = await rollbackDelays(group)
    console.log(
      `[issue 13] rollback to 3 pooled processes whose LISTEN is lost (polling): ${delaysMs.join(', ')} ms after its event`,
    )
    for (const d of delaysMs) expect(d).toBeLessThan(1000)
    expect(ack).toMatchObject({ acknowledged: 3, listeners: 3 })
    // Never claimed to listen.
    expect(group.map((f) => f.followMode)).toEqual(['poll', 'poll', 'poll'])
    await Promise.all(group.map((f) => f.stop()))
  }, 180_000)
})
