import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { Registry } from 'prom-client'
import { beforeAll, describe, expect, it } from 'vitest'
import { Cutover } from '../../src/cutover/cutover.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { order, setupOrders, silentLogger } from '../support/orders-fixture.js'

const db = await freshDatabase()

async function grant(file: 'application' | 'operator', role: string): Promise<void> {
  const text = await readFile(fileURLToPath(new URL(`../../sql/grants/${file}.sql`, import.meta.url)), 'utf8')
  await db.query(
    text
      .replaceAll(':ROLE', `"${role}"`)
      .replaceAll(':CUTOVER_SCHEMA', '"cutover"')
      .replaceAll(':LEGACY_TABLE', '"public"."orders"')
      .replaceAll(':SHADOW_TABLE', '"public"."orders_v2"'),
  )
}

function urlFor(role: string): string {
  const url = new URL(db.url)
  url.username = role
  url.password = 'pw'
  return url.toString()
}

beforeAll(async () => {
  await setupOrders(db, { guardrails: { maxDivergencesPerMinute: 1, windowSeconds: 60 } })
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents) SELECT g, gen_random_uuid()::text, g FROM generate_series(1, 200) g`,
  )
  await db.query(`CREATE ROLE app_role LOGIN PASSWORD 'pw'; CREATE ROLE ops_role LOGIN PASSWORD 'pw';
                  REVOKE ALL ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO app_role, ops_role;`)
  await grant('application', 'app_role')
  await grant('operator', 'ops_role')
})

describe('least privilege', { timeout: 180_000 }, () => {
  it('a read-only role running rollback gets the grant it lacks named, with exit code 4, and changes nothing', async () => {
    await db.query(
      `CREATE ROLE ro_role LOGIN PASSWORD 'pw'; GRANT USAGE ON SCHEMA cutover TO ro_role; GRANT SELECT ON ALL TABLES IN SCHEMA cutover TO ro_role`,
    )
    const before = await db.query('SELECT phase, version FROM cutover.state')
    const result = await runCli(['rollback', 'orders_v2', '--database-url', urlFor('ro_role')])
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 4,
      stderr:
        'cutover: permission denied on table cutover.state (permission denied for table state); have its owner run: GRANT SELECT, INSERT, UPDATE ON "cutover"."state" TO "ro_role" (as in sql/grants/operator.sql)\n',
    })
    expect(await db.query('SELECT phase, version FROM cutover.state')).toEqual(before)
  })

  it('verify by a role without a grant on the shadow names that grant (exit 4), never blaming the config', async () => {
    await db.query(`CREATE ROLE no_shadow_role LOGIN PASSWORD 'pw'; GRANT USAGE ON SCHEMA public TO no_shadow_role`)
    await grant('operator', 'no_shadow_role')
    await db.query('REVOKE ALL ON orders_v2 FROM no_shadow_role')
    const result = await runCli(['verify', 'orders_v2', '--database-url', urlFor('no_shadow_role')])
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 4,
      stderr:
        'cutover: permission denied on table public.orders_v2 (permission denied for table orders_v2); have its owner run: GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."orders_v2" TO "no_shadow_role" (as in sql/grants/operator.sql)\n',
    })
  })

  it('a role with only the operator grants runs the CLI from precheck and dual_write through backfill, verify, repair, ramp and rollback', async () => {
    const ops = (...args: string[]) => runCli([...args, '--database-url', urlFor('ops_role'), '--json'])
    for (const args of [
      ['precheck', 'orders_v2'],
      ['advance', 'orders_v2'],
      ['backfill', 'orders_v2'],
      ['verify', 'orders_v2'],
      ['advance', 'orders_v2'],
      ['ramp', 'orders_v2', '10'],
      ['status'],
      ['divergences', 'orders_v2'],
    ]) {
      const result = await ops(...args)
      expect({ args, stderr: result.stderr, code: result.code }).toEqual({ args, stderr: '', code: 0 })
    }
    await db.query("UPDATE orders_v2 SET status = 'bad' WHERE id = 3")
    expect((await ops('verify', 'orders_v2')).code).toBe(1)
    expect((await ops('repair', 'orders_v2')).code).toBe(0)
    expect((await ops('verify', 'orders_v2')).code).toBe(0)
    expect((await ops('rollback', 'orders_v2')).code).toBe(0)
    const refused = await ops('init')
    expect(refused.code).not.toBe(0)
  })

  it('a role with only the application grants uses the DAL: writes, compared reads, divergence rows and a guardrail rollback', async () => {
    await runCli(['advance', 'orders_v2', '--to', 'shadow_read', '--database-url', urlFor('ops_role')])
    const pool = new pg.Pool({ connectionString: urlFor('app_role'), max: 4 })
    const cutover = await Cutover.connect({
      pool,
      registry: new Registry(),
      logger: silentLogger,
      random: () => 0,
      comparisons: { maxInFlight: 100 },
    })
    try {
      const dal = await cutover.migration('orders_v2')
      await cutover.watcher.poll()
      expect(dal.state.phase).toBe('shadow_read')
      await dal.insert(order(1000))
      await dal.update(1000, { status: 'paid' })
      await dal.delete(1000)
      await db.query("UPDATE orders_v2 SET status = 'bad' WHERE id IN (5, 6, 7)")
      for (const id of [5, 6, 7]) await dal.get(id)
      await cutover.flush()
      expect(
        (
          await db.query(
            "SELECT count(*)::int AS n FROM cutover.divergences WHERE repaired_at IS NULL AND source = 'read'",
          )
        )[0],
      ).toEqual({ n: 3 })
      // The guardrail judges at most once a second; its deferred check trips on the burst.
      for (const deadline = Date.now() + 30_000; Date.now() < deadline && dal.state.phase !== 'dual_write';)
        await new Promise((r) => setTimeout(r, 100))
      await cutover.flush()
      expect(await db.query('SELECT phase FROM cutover.state')).toEqual([{ phase: 'dual_write' }])
      expect(await db.query("SELECT actor FROM cutover.events WHERE kind = 'guardrail_rollback'")).toEqual([
        { actor: expect.stringMatching(/^guardrail@/) },
      ])
      await expect(pool.query('DELETE FROM cutover.events')).rejects.toThrow(/permission denied/)
      await expect(pool.query("UPDATE cutover.migrations SET definition = '{}'")).rejects.toThrow(/permission denied/)
    } finally {
      await cutover.close()
      await pool.end()
    }
  })
})
