import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'ana'])

beforeAll(async () => {
  await setupOrders(db)
  await db.query(`INSERT INTO orders (id, customer_id, amount_cents, status, meta)
                  SELECT g, gen_random_uuid()::text, g, 'new', jsonb_build_object('g', g) FROM generate_series(1, 300) g`)
  await setPhase(db.pool, 'dual_write')
})

describe('backfill --max-replica-lag', () => {
  it('refuses a bound that is not a positive number in one line naming the fix, writing nothing; the suggested command then runs', async () => {
    const before = await controlSnapshot(db.pool)
    const refused = await cli('backfill', 'orders_v2', '--max-replica-lag', '0')
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toMatch(
      /--max-replica-lag \(maxReplicaLagSeconds\) must be a positive number of seconds, got 0; for example: cutover backfill orders_v2 --max-replica-lag 5/,
    )
    expect(await controlSnapshot(db.pool)).toBe(before)
    // The suggestion, on a server without replicas: nothing lags, and it copies everything.
    const suggested = /for example: cutover (.*)$/.exec(refused.stderr.trim())?.[1]?.split(' ') ?? []
    const ran = await cli(...suggested)
    expect(ran.code).toBe(0)
    expect(await db.query('SELECT count(*)::int AS n FROM orders_v2')).toEqual([{ n: 300 }])
  })
})
