/**
 * Issue 13: the CLI through a real PgBouncer in pool_mode=transaction takes no
 * lock and sets nothing that outlives its transaction: the pooler hands every
 * server connection to someone else's next transaction.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, setPhase, setupOrders } from '../support/orders-fixture.js'
import { poolerUnavailable, startPooler, type Pooler } from '../support/pooler.js'
import { startWriters } from '../support/writers.js'

const skip = poolerUnavailable()
const db = await freshDatabase()
let pooler: Pooler

beforeAll(async () => {
  if (skip) return
  pooler = (await startPooler(inject('adminUrl'))) as Pooler
  await setupOrders(db)
  await db.query(`INSERT INTO orders (id, customer_id, amount_cents)
    SELECT g, '6f1c2b36-3d4e-4f51-9a67-0123456789ab', g FROM generate_series(1, 2000) g`)
  await setPhase(db.pool, 'dual_write')
})
afterAll(async () => {
  await pooler?.stop()
})

const pooled = (...args: string[]) =>
  runCli(
    [...args, '--database-url', pooler.url(db.name), '--actor', 'oncall', '--reason', 'pooler test'],
    {},
    { signalAfterMs: 45_000 },
  )

/** Settings a session could leave behind, as a fresh connection has them. */
const SETTINGS = [
  'lock_timeout',
  'statement_timeout',
  'idle_in_transaction_session_timeout',
  'search_path',
  'default_transaction_isolation',
  'default_transaction_read_only',
  'work_mem',
  'synchronous_commit',
  'session_replication_role',
  'TimeZone',
]
const SESSION_STATE = `SELECT pg_backend_pid() AS pid, ${SETTINGS.map((s, i) => `current_setting('${s}') AS s${i}`).join(', ')},
  (SELECT count(*)::int FROM pg_prepared_statements) AS prepared, (SELECT count(*)::int FROM pg_listening_channels()) AS listening`

/** Runs `work` while an application process writes through the pooler with four concurrent writers. */
async function withAppTraffic(firstNewKey: number, work: () => Promise<void>): Promise<void> {
  const app = await connectCutover({ ...db, url: pooler.url(db.name) })
  const writers = startWriters(await app.cutover.migration('orders_v2'), {
    count: 4,
    existingKeys: 2000,
    firstNewKey,
    seed: firstNewKey,
  })
  try {
    await work()
  } finally {
    expect(await writers.stop()).toBeGreaterThan(0)
    await app.cutover.close()
    await app.pool.end()
  }
}

describe.skipIf(skip)('the CLI behind a transaction pooler (issue 13)', () => {
  it('cutover init run twice through the pooler, with application traffic on it, finishes both times', async () => {
    await withAppTraffic(10_000, async () => {
      for (const run of [1, 2]) {
        const init = await pooled('init')
        expect({ run, code: init.code, stderr: init.stderr }).toEqual({ run, code: 0, stderr: '' })
      }
    })
    expect(await db.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'")).toEqual([{ n: 0 }])
  }, 120_000)

  it('after doctor, verify and backfill through the pooler, no pooled server connection holds a lock or a setting the tool took', async () => {
    // With application traffic, the tool's statements land on one server connection after another.
    await withAppTraffic(20_000, async () => {
      for (const command of [['backfill', 'orders_v2'], ['verify', 'orders_v2'], ['doctor'], ['doctor', 'orders_v2']]) {
        const result = await pooled(...command, '--json')
        expect({ command, stderr: result.stderr }).toEqual({ command, stderr: '' })
        expect([0, 1]).toContain(result.code)
      }
    })
    const servers = await pooler.serverPids(db.name)
    expect(servers.length).toBeGreaterThan(0)
    // Idle server connections hold no lock at all, advisory or other.
    expect(await db.query('SELECT pid, locktype, mode FROM pg_locks WHERE pid = ANY($1)', [servers])).toEqual([])
    const fresh = new pg.Client({ connectionString: db.url })
    await fresh.connect()
    const expected = (await fresh.query(SESSION_STATE)).rows[0] as Record<string, unknown>
    await fresh.end()
    // As many open transactions as the pool has connections: each holds a different server connection, so together they see every one.
    const clients = await Promise.all(
      Array.from({ length: pooler.poolSize }, async () => {
        const client = new pg.Client({ connectionString: pooler.url(db.name) })
        await client.connect()
        await client.query('BEGIN')
        return client
      }),
    )
    try {
      const seen = await Promise.all(
        clients.map(async (c) => (await c.query(SESSION_STATE)).rows[0] as Record<string, unknown>),
      )
      expect(servers.filter((pid) => !seen.some((s) => s.pid === pid))).toEqual([])
      for (const state of seen) expect(state).toEqual({ ...expected, pid: state.pid })
    } finally {
      await Promise.all(
        clients.map(async (c) => {
          await c.query('COMMIT').catch(() => undefined)
          await c.end()
        }),
      )
    }
  }, 120_000)
})
