import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigInvalid } from '../../src/core/errors.js'
import type { MigrationState } from '../../src/core/phases.js'
import { routeRead } from '../../src/core/routing.js'
import { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { UnleashAdmin } from '../../src/flags/unleash-admin.js'
import { UnleashProvider } from '../../src/flags/unleash-provider.js'
import { freePort } from '../../src/demo/embedded-server.js'
import { runCli, type CliResult } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { setPhase, setupOrders, silentLogger } from '../support/orders-fixture.js'
import { findUnleashServer, startUnleashServer, type UnleashServer } from '../support/unleash-server.js'

const TOGGLE = 'cutover.orders_v2.shadow-reads'
const ADMIN_CANARY = '*:*.canary-admin-token-never-printed'
const IDS = Array.from({ length: 400 }, (_, i) => i + 1)
const KEYS = Array.from({ length: 20_000 }, (_, i) => `tenant-${i}`)
const ramp = (readPercent: number): MigrationState => ({ phase: 'ramp', readPercent, authority: 'legacy', version: 1 })

const db = await freshDatabase()
const unleashPackage = findUnleashServer()
const unleashDb = unleashPackage.found ? await freshDatabase() : undefined
if (!unleashPackage.found)
  console.warn(`[flags-unleash] tests against a real Unleash server skipped: ${unleashPackage.reason}`)

const closers: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

beforeAll(async () => {
  await setupOrders(db, { routing: { provider: 'unleash' } })
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents) SELECT g, gen_random_uuid()::text, 1234 FROM generate_series(1, 400) g`,
  )
  // Every shadow row is marked, so a read shows which side served it.
  await db.query(
    `INSERT INTO orders_v2 (id, customer, amount, status, placed_at, meta) SELECT id, customer_id::uuid, amount_cents / 100.0, status || '*', placed_at, meta FROM orders`,
  )
})

/** A Cutover whose Unleash-routed DAL follows `url`; closed when the file ends. */
async function connect(
  url: string,
  token?: string,
  readyTimeoutMs = 5000,
): Promise<{ cutover: Cutover; dal: MigrationDal }> {
  const pool = new pg.Pool({ connectionString: db.url, max: 5 })
  pool.on('error', () => undefined)
  const cutover = await Cutover.connect({
    pool,
    registry: new Registry(),
    logger: silentLogger,
    random: () => 0.5,
    fallbackPollMs: 100,
    unleash: { url, ...(token ? { token } : {}), refreshIntervalMs: 100, readyTimeoutMs },
  })
  closers.push(async () => {
    await cutover.close()
    await pool.end()
  })
  return { cutover, dal: await cutover.migration('orders_v2') }
}

/** Which side served each of the 400 rows, read by `tenant-<id>`. */
async function servedSides(dal: MigrationDal): Promise<string[]> {
  const sides: string[] = []
  for (const id of IDS) {
    const row = await dal.get(id, { routingKey: `tenant-${id}` })
    sides.push(String(row?.status).endsWith('*') ? 'shadow' : 'legacy')
  }
  return sides
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Waits until a client's last fetch shows the toggle `enabled` at `percent` (Unleash's client API lags its admin API by about a second). */
async function untilSeen(provider: UnleashProvider | undefined, enabled: boolean, percent: number): Promise<void> {
  await until(
    () => {
      const seen = provider?.seen('orders_v2')
      return seen?.enabled === enabled && seen.rolloutPercent === percent
    },
    `the client to fetch the toggle ${enabled ? 'on' : 'off'} at ${percent} %`,
  )
}

function expectNoSecrets(results: readonly CliResult[], secrets: readonly string[]): void {
  for (const r of results) for (const secret of secrets) expect(`${r.stdout}${r.stderr}`).not.toContain(secret)
}

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'], {
    UNLEASH_URL: '',
    UNLEASH_ADMIN_TOKEN: ADMIN_CANARY,
    ...env,
  })

describe('Unleash routing without a reachable Unleash', () => {
  it('routes every ramp read to legacy when Unleash is unreachable at start-up, and follows the phase otherwise', async () => {
    await setPhase(db.pool, 'ramp', 100)
    const { cutover, dal } = await connect(`http://127.0.0.1:${await freePort()}/api`, undefined, 300)
    expect(cutover.state('orders_v2')).toMatchObject({ phase: 'ramp', readPercent: 100 })
    expect(cutover.unleash?.seen('orders_v2')).toBeUndefined()
    expect(new Set(await servedSides(dal))).toEqual(new Set(['legacy']))
    expect(
      (await dal.select((from) => from.selectAll().where('id', '<=', 3), { routingKey: 'tenant-1' })).map(
        (r) => r.status,
      ),
    ).toEqual(['new', 'new', 'new'])
    await setPhase(db.pool, 'shadow_primary')
    await cutover.watcher.poll()
    expect(new Set(await servedSides(dal))).toEqual(new Set(['shadow']))
  })

  it('refuses an Unleash-routed migration on a Cutover given no unleash options', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 })
    const cutover = await Cutover.connect({ pool, registry: new Registry(), logger: silentLogger })
    try {
      await expect(cutover.migration('orders_v2')).rejects.toThrow(ConfigInvalid)
      await expect(cutover.migration('orders_v2')).rejects.toThrow(
        /routes reads with Unleash .* pass \{ unleash: \{ url \} \}/,
      )
    } finally {
      await cutover.close()
      await pool.end()
    }
  })

  it('cutover ramp refuses before changing anything when no Unleash URL is known', async () => {
    await setPhase(db.pool, 'shadow_read')
    const before = await controlSnapshot(db.pool)
    const result = await cli(['ramp', 'orders_v2', '20', '--force'])
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toMatch(
      /^cutover: migration "orders_v2": routes reads with Unleash \(toggle "cutover.orders_v2.shadow-reads"\) but no Unleash URL was given; pass --unleash-url .* or set UNLEASH_URL/,
    )
    expect(await controlSnapshot(db.pool)).toBe(before)
  })

  it('cutover ramp says what failed when Unleash is unreachable; cutover rollback still exits 0 with a warning', async () => {
    await setPhase(db.pool, 'shadow_read')
    const url = `http://127.0.0.1:${await freePort()}/api`
    const ramped = await cli(['ramp', 'orders_v2', '20', '--force', '--unleash-url', url])
    expect(ramped.code).toBe(3)
    expect(ramped.stdout).toMatch(/orders_v2: ramped shadow_read -> ramp 20%/)
    expect(ramped.stderr.trim()).toMatch(
      /^cutover: Unleash toggle "cutover.orders_v2.shadow-reads" not updated: cannot reach Unleash \(GET http:\/\/127\.0\.0\.1:\d+\/api\/admin\/projects\/default\/features\/cutover\.orders_v2\.shadow-reads\/environments\/development\/strategies\): .*; the control schema is at ramp 20 % but ramp reads follow Unleash's current rollout until it is updated: fix that, then re-run: cutover ramp orders_v2 20$/,
    )

    const rolledBack = await cli(['rollback', 'orders_v2', '--unleash-url', url])
    expect(rolledBack.code).toBe(0)
    expect(rolledBack.stdout).toMatch(/orders_v2: rolled back ramp 20% -> dual_write/)
    expect(rolledBack.stderr.trim()).toMatch(
      /^cutover: warning: orders_v2: the rollback is in force \(routing obeys the control schema\), but Unleash's toggle "cutover.orders_v2.shadow-reads" was not disabled: cannot reach Unleash .*; disable it in Unleash once it answers, or re-run: cutover rollback orders_v2$/,
    )
    expect(
      (await db.query("SELECT phase, read_percent FROM cutover.state WHERE migration = 'orders_v2'"))[0],
    ).toMatchObject({ phase: 'dual_write', read_percent: 0 })
    expectNoSecrets([ramped, rolledBack], [ADMIN_CANARY])
  })
})

describe.skipIf(!unleashPackage.found)(
  `against a real Unleash server (unleash-server ${unleashPackage.found ? unleashPackage.version : 'not installed'})`,
  () => {
    let server: UnleashServer
    let secrets: string[]
    const outputs: CliResult[] = []
    const withToken = (args: string[]) =>
      cli([...args, '--unleash-url', server.apiUrl], { UNLEASH_ADMIN_TOKEN: server.adminToken }).then((r) => {
        outputs.push(r)
        return r
      })

    beforeAll(async () => {
      server = await startUnleashServer(
        (unleashPackage as { entry: string }).entry,
        unleashDb as NonNullable<typeof unleashDb>,
      )
      secrets = [server.adminToken, server.clientToken]
    })
    afterAll(async () => {
      expectNoSecrets(outputs, secrets ?? [])
      await server?.stop()
    })

    const rolloutOf = async () => (await server.clientFeatures()).features.find((f) => f.name === TOGGLE)

    it('cutover ramp sets the toggle through the admin API, and the provider routes 10 % and 50 % of 20,000 keys as rolloutBucket does', async () => {
      await setPhase(db.pool, 'shadow_read')
      const provider = new UnleashProvider({
        url: server.apiUrl,
        token: server.clientToken,
        refreshIntervalMs: 100,
        logger: silentLogger,
      })
      closers.push(() => provider.close())
      for (const percent of [10, 50]) {
        const result = await withToken(['ramp', 'orders_v2', String(percent), '--force'])
        expect(result.code, result.stderr).toBe(0)
        expect(result.stdout).toContain(
          `unleash: toggle "${TOGGLE}" enabled at ${percent} % (flexibleRollout, stickiness userId, groupId orders_v2) in development`,
        )
        // Unleash's own view (what its UI shows) agrees with the control schema.
        await until(
          async () => (await rolloutOf())?.strategies[0]?.parameters.rollout === String(percent),
          `the client API to serve ${percent} %`,
        )
        expect(await rolloutOf()).toMatchObject({
          enabled: true,
          strategies: [
            {
              name: 'flexibleRollout',
              parameters: { rollout: String(percent), stickiness: 'userId', groupId: 'orders_v2' },
            },
          ],
        })
        await untilSeen(provider, true, percent)
        const routed = KEYS.map((k) => provider.route('orders_v2', ramp(percent), k))
        expect(routed).toEqual(KEYS.map((k) => routeRead('orders_v2', ramp(percent), k)))
        const share = (routed.filter((s) => s === 'shadow').length / KEYS.length) * 100
        expect(Math.abs(share - percent)).toBeLessThanOrEqual(1)
      }
    })

    it("the DAL serves exactly the keys Unleash puts on the shadow, and inside ramp Unleash's percentage wins", async () => {
      const { cutover, dal } = await connect(server.apiUrl, server.clientToken)
      await untilSeen(cutover.unleash, true, 50)
      expect(cutover.state('orders_v2')).toMatchObject({ phase: 'ramp', readPercent: 50 })
      expect(await servedSides(dal)).toEqual(IDS.map((id) => routeRead('orders_v2', ramp(50), `tenant-${id}`)))
      // Someone moves the rollout in Unleash's UI: reads follow it while the control schema still says 50 %.
      await new UnleashAdmin({ url: server.apiUrl, token: server.adminToken }).setRolloutPercent(
        TOGGLE,
        100,
        'orders_v2',
      )
      await untilSeen(cutover.unleash, true, 100)
      expect(new Set(await servedSides(dal))).toEqual(new Set(['shadow']))
    })

    it('ignores the toggle outside ramp', async () => {
      const { cutover, dal } = await connect(server.apiUrl, server.clientToken)
      expect(cutover.unleash?.seen('orders_v2')).toEqual({ enabled: true, rolloutPercent: 100 })
      await setPhase(db.pool, 'dual_write')
      await cutover.watcher.poll()
      expect(new Set(await servedSides(dal))).toEqual(new Set(['legacy']))
      await new UnleashAdmin({ url: server.apiUrl, token: server.adminToken }).disableToggle(TOGGLE)
      await untilSeen(cutover.unleash, false, 100)
      await setPhase(db.pool, 'shadow_primary')
      await cutover.watcher.poll()
      expect(new Set(await servedSides(dal))).toEqual(new Set(['shadow']))
    })

    it('a rollback overrides an enabled toggle while Unleash is stopped', async () => {
      await setPhase(db.pool, 'shadow_read')
      expect((await withToken(['ramp', 'orders_v2', '100', '--force'])).code).toBe(0)
      const { cutover, dal } = await connect(server.apiUrl, server.clientToken)
      await untilSeen(cutover.unleash, true, 100)
      expect(new Set(await servedSides(dal))).toEqual(new Set(['shadow']))

      await server.stop()
      const result = await withToken(['rollback', 'orders_v2'])
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/orders_v2: rolled back ramp 100% -> dual_write/)
      expect(result.stderr.trim()).toMatch(
        /^cutover: warning: orders_v2: the rollback is in force .* was not disabled: cannot reach Unleash /,
      )
      await cutover.watcher.poll()
      // The client still holds the enabled toggle (it cannot refresh), and every read goes to legacy.
      expect(cutover.unleash?.seen('orders_v2')).toEqual({ enabled: true, rolloutPercent: 100 })
      expect(new Set(await servedSides(dal))).toEqual(new Set(['legacy']))
    })

    it('a stopped Unleash leaves ramp reads on its last rollout, and a restarted one is followed again without reconnecting', async () => {
      await server.restart() // the previous test stopped it
      await setPhase(db.pool, 'shadow_read')
      expect((await withToken(['ramp', 'orders_v2', '20', '--force'])).code).toBe(0)
      const { cutover, dal } = await connect(server.apiUrl, server.clientToken)
      await untilSeen(cutover.unleash, true, 20)
      const at20 = IDS.map((id) => routeRead('orders_v2', ramp(20), `tenant-${id}`))
      expect(await servedSides(dal)).toEqual(at20)

      await server.stop()
      // While it is down: the last rollout it served stays in force (never a guess of the shadow).
      await new Promise((r) => setTimeout(r, 500))
      expect(cutover.unleash?.seen('orders_v2')).toEqual({ enabled: true, rolloutPercent: 20 })
      expect(await servedSides(dal)).toEqual(at20)

      await server.restart()
      // The same client recovers by itself: a change made after the restart reaches the DAL.
      expect((await withToken(['ramp', 'orders_v2', '60'])).code).toBe(0)
      await untilSeen(cutover.unleash, true, 60)
      await cutover.watcher.poll()
      expect(await servedSides(dal)).toEqual(IDS.map((id) => routeRead('orders_v2', ramp(60), `tenant-${id}`)))
      // and a rollback after the restart turns the toggle off in Unleash as well
      const rolledBack = await withToken(['rollback', 'orders_v2'])
      expect(rolledBack.code).toBe(0)
      expect(rolledBack.stderr).toBe('')
      await until(async () => (await rolloutOf())?.enabled === false, 'the toggle to be disabled')
      await cutover.watcher.poll()
      expect(new Set(await servedSides(dal))).toEqual(new Set(['legacy']))
    })
  },
)
