import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import type { MigrationState, Phase } from '../core/phases.js'
import { routeRead } from '../core/routing.js'
import { createLogger } from '../logger.js'
import { freePort } from '../demo/embedded-server.js'
import { UnleashProvider } from './unleash-provider.js'

const TOGGLE = 'cutover.orders_v2.shadow-reads'
const TOKEN = 'default:development.unit-test-client-token-5f1e'
const keys = Array.from({ length: 20_000 }, (_, i) => `tenant-${i}`)

/**
 * `GET /api/client/features` as unleash-server 7.5.1 answered it (recorded against a real server
 * with a backend token, after `cutover ramp` set the strategy); only `rollout` and `enabled` vary.
 */
function recordedFeatures(rollout: number, enabled = true): unknown {
  return {
    version: 2,
    features: [
      {
        name: TOGGLE,
        type: 'release',
        enabled,
        project: 'default',
        stale: false,
        strategies: [
          {
            name: 'flexibleRollout',
            constraints: [],
            parameters: { groupId: 'orders_v2', rollout: String(rollout), stickiness: 'userId' },
            variants: [],
          },
        ],
        variants: [],
        description: null,
        impressionData: false,
      },
    ],
    query: { project: ['default'], environment: 'development', inlineSegmentConstraints: true },
    meta: { revisionId: 10, etag: '"6ef7ec5a:10:v1"', queryHash: '6ef7ec5a' },
  }
}

interface FakeUnleash {
  url: string
  served: () => unknown
  set: (body: unknown) => void
  requests: IncomingMessage[]
  close: () => Promise<void>
}

/** A loopback HTTP server answering the client API with a recorded body; 401 without the token. */
async function fakeUnleash(initial: unknown, port = 0): Promise<FakeUnleash> {
  let body = initial
  const requests: IncomingMessage[] = []
  const server: Server = createServer((req, res) => {
    requests.push(req)
    if (req.headers.authorization !== TOKEN) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"You must log in to use Unleash."}')
    } else if (req.method === 'GET' && req.url?.startsWith('/api/client/features')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    } else {
      res.writeHead(202).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    served: () => body,
    set: (next) => {
      body = next
    },
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const opened: Array<{ close: () => Promise<void> }> = []
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close()
})

let logs = ''
function provider(url: string, token: string | undefined = TOKEN): UnleashProvider {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs += String(chunk)
      done()
    },
  })
  const p = new UnleashProvider({
    url,
    token,
    refreshIntervalMs: 50,
    disableMetrics: true,
    logger: createLogger({ level: 'debug', destination: sink }),
  })
  opened.push(p)
  return p
}

const state = (phase: Phase, readPercent = 0): MigrationState => ({
  phase,
  readPercent,
  authority: phase === 'shadow_primary' || phase === 'complete' ? 'shadow' : 'legacy',
  version: 1,
})

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('UnleashProvider over unleash-client, against recorded client-API responses', () => {
  it('routes 10 % and 50 % of 20,000 keys within one point, key for key as the built-in bucketing', async () => {
    const server = await fakeUnleash(recordedFeatures(10))
    opened.push(server)
    const unleash = provider(server.url)
    expect(await unleash.whenReady(5000)).toBe(true)
    for (const percent of [10, 50]) {
      server.set(recordedFeatures(percent))
      await until(() => unleash.seen('orders_v2')?.rolloutPercent === percent)
      const ramp = state('ramp', percent)
      const routed = keys.map((k) => unleash.route('orders_v2', ramp, k))
      expect(routed).toEqual(keys.map((k) => routeRead('orders_v2', ramp, k)))
      const share = (routed.filter((s) => s === 'shadow').length / keys.length) * 100
      expect(Math.abs(share - percent)).toBeLessThanOrEqual(1)
    }
    expect(server.requests.every((r) => r.headers.authorization === TOKEN)).toBe(true)
  })

  it('takes the percentage from Unleash, not from the control schema, inside ramp', async () => {
    const server = await fakeUnleash(recordedFeatures(100))
    opened.push(server)
    const unleash = provider(server.url)
    await unleash.whenReady(5000)
    expect(keys.slice(0, 500).every((k) => unleash.route('orders_v2', state('ramp', 1), k) === 'shadow')).toBe(true)
  })

  it('ignores the toggle outside ramp: the phase side, whatever Unleash says', async () => {
    const server = await fakeUnleash(recordedFeatures(100))
    opened.push(server)
    const unleash = provider(server.url)
    await unleash.whenReady(5000)
    for (const phase of ['off', 'dual_write', 'shadow_read'] as const) {
      expect(keys.slice(0, 500).every((k) => unleash.route('orders_v2', state(phase), k) === 'legacy')).toBe(true)
    }
    server.set(recordedFeatures(0, false))
    await until(() => unleash.seen('orders_v2')?.enabled === false)
    for (const phase of ['shadow_primary', 'complete'] as const) {
      expect(keys.slice(0, 500).every((k) => unleash.route('orders_v2', state(phase, 100), k) === 'shadow')).toBe(true)
    }
  })

  it('lets a rollback override an enabled toggle while Unleash is stopped', async () => {
    const server = await fakeUnleash(recordedFeatures(100))
    opened.push(server)
    const unleash = provider(server.url)
    await unleash.whenReady(5000)
    await server.close()
    await new Promise((r) => setTimeout(r, 200))
    // The client still holds the enabled toggle it last fetched...
    expect(unleash.seen('orders_v2')).toEqual({ enabled: true, rolloutPercent: 100 })
    expect(unleash.route('orders_v2', state('ramp', 50), 'tenant-1')).toBe('shadow')
    // ...and the rollback's phase (dual_write) sends every key to legacy at once.
    expect(keys.every((k) => unleash.route('orders_v2', state('dual_write'), k) === 'legacy')).toBe(true)
  })

  it('routes ramp reads to legacy when Unleash is unreachable at start-up', async () => {
    const unleash = provider(`http://127.0.0.1:${await freePort()}/api`)
    expect(await unleash.whenReady(300)).toBe(false)
    expect(keys.every((k) => unleash.route('orders_v2', state('ramp', 100), k) === 'legacy')).toBe(true)
    expect(unleash.route('orders_v2', state('shadow_primary', 100), 'tenant-1')).toBe('shadow')
  })

  it('routes to legacy when the toggle is missing or the token is refused, and never logs the token', async () => {
    const server = await fakeUnleash({ version: 2, features: [] })
    opened.push(server)
    const unleash = provider(server.url)
    expect(await unleash.whenReady(5000)).toBe(true)
    expect(keys.slice(0, 500).every((k) => unleash.route('orders_v2', state('ramp', 100), k) === 'legacy')).toBe(true)

    logs = ''
    const refused = provider(server.url, `${TOKEN}-wrong`)
    expect(await refused.whenReady(5000)).toBe(false)
    expect(refused.route('orders_v2', state('ramp', 100), 'tenant-1')).toBe('legacy')
    await until(() => logs.includes('unleash unreachable'))
    expect(logs).toMatch(/401/)
    expect(logs).not.toContain(TOKEN)
  })

  it('closes without ending the process while a fetch is still retrying', async () => {
    const unleash = provider(`http://127.0.0.1:${await freePort()}/api`)
    await new Promise((r) => setTimeout(r, 100))
    await unleash.close()
    await unleash.close()
    // unleash-client retries a failed fetch for about 3 s; its late failure must find a listener.
    await new Promise((r) => setTimeout(r, 3500))
  })
})
