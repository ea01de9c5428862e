import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../demo/embedded-server.js'
import { UnleashAdmin } from './unleash-admin.js'
import { UnleashAdminFailed } from './unleash-admin-failed.js'
import { unleashApiUrl } from './unleash-api-url.js'

const TOKEN = '*:*.unit-test-admin-token-91c2'
const FEATURE = '/api/admin/projects/default/features/cutover.orders_v2.shadow-reads'
const STRATEGIES = `${FEATURE}/environments/development/strategies`

interface Seen {
  method: string
  path: string
  authorization: string | undefined
  body: unknown
}
type Answer = { status: number; body?: unknown }

/** A loopback server that records each admin request and answers from `routes` ("METHOD path" → answer). */
async function adminServer(
  routes: Record<string, Answer>,
): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (d: Buffer) => {
      raw += d.toString()
    })
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: raw ? JSON.parse(raw) : undefined,
      })
      const answer = routes[`${req.method} ${req.url}`] ?? { status: 200 }
      res
        .writeHead(answer.status, { 'content-type': 'application/json' })
        .end(answer.body === undefined ? '' : JSON.stringify(answer.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  }
}

const closing: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of closing.splice(0)) await c()
})

async function serve(routes: Record<string, Answer>) {
  const server = await adminServer(routes)
  closing.push(server.close)
  return server
}

const rollout = (percent: number) => ({ rollout: String(percent), stickiness: 'userId', groupId: 'orders_v2' })

describe('UnleashAdmin', () => {
  it('creates a missing toggle with a flexibleRollout on the routing key, then enables it', async () => {
    const server = await serve({
      [`GET ${STRATEGIES}`]: { status: 404, body: { message: 'Feature does not have environment development' } },
    })
    await new UnleashAdmin({ url: server.url, token: TOKEN }).setRolloutPercent(
      'cutover.orders_v2.shadow-reads',
      10,
      'orders_v2',
    )
    expect(server.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `GET ${STRATEGIES}`,
      'POST /api/admin/projects/default/features',
      `POST ${STRATEGIES}`,
      `POST ${FEATURE}/environments/development/on`,
    ])
    expect(server.seen[1]?.body).toMatchObject({ name: 'cutover.orders_v2.shadow-reads', type: 'release' })
    expect(server.seen[2]?.body).toEqual({ name: 'flexibleRollout', constraints: [], parameters: rollout(10) })
    expect(server.seen.every((s) => s.authorization === TOKEN)).toBe(true)
  })

  it('updates the existing flexibleRollout strategy in place, keeping its constraints', async () => {
    const constraints = [{ contextName: 'appName', operator: 'IN', values: ['shop'] }]
    const server = await serve({
      [`GET ${STRATEGIES}`]: {
        status: 200,
        body: [{ id: 's-1', name: 'flexibleRollout', constraints, parameters: rollout(10), segments: [] }],
      },
    })
    await new UnleashAdmin({ url: `${server.url}/api/`, token: TOKEN }).setRolloutPercent(
      'cutover.orders_v2.shadow-reads',
      50,
      'orders_v2',
    )
    expect(server.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `GET ${STRATEGIES}`,
      `PUT ${STRATEGIES}/s-1`,
      `POST ${FEATURE}/environments/development/on`,
    ])
    expect(server.seen[1]?.body).toEqual({
      name: 'flexibleRollout',
      parameters: rollout(50),
      disabled: false,
      constraints,
      segments: [],
    })
  })

  it('disables the toggle in the configured project and environment', async () => {
    const server = await serve({})
    await new UnleashAdmin({ url: server.url, token: TOKEN, project: 'shop', environment: 'production' }).disableToggle(
      'orders.reads',
    )
    expect(server.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'POST /api/admin/projects/shop/features/orders.reads/environments/production/off',
    ])
  })

  it('says what failed, with exit code 3, and never shows the token', async () => {
    const server = await serve({
      [`POST ${FEATURE}/environments/development/off`]: {
        status: 401,
        body: { message: `token ${TOKEN} is not allowed` },
      },
    })
    const refused = await new UnleashAdmin({ url: server.url, token: TOKEN })
      .disableToggle('cutover.orders_v2.shadow-reads')
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(UnleashAdminFailed)
    expect((refused as UnleashAdminFailed).exitCode).toBe(3)
    expect((refused as Error).message).toMatch(
      /^Unleash toggle "cutover.orders_v2.shadow-reads" not updated: Unleash refused POST http:\/\/127\.0\.0\.1:\d+\/api\/admin\/.*\/off \(HTTP 401: token \*\*\* is not allowed\); set UNLEASH_ADMIN_TOKEN to an admin token$/,
    )

    const port = await freePort()
    const unreachable = await new UnleashAdmin({ url: `http://127.0.0.1:${port}`, token: TOKEN })
      .disableToggle('t')
      .catch((e: unknown) => e)
    expect((unreachable as Error).message).toMatch(
      new RegExp(
        `cannot reach Unleash \\(POST http://127.0.0.1:${port}/api/admin/projects/default/features/t/environments/development/off\\): .*ECONNREFUSED`,
      ),
    )
    expect((unreachable as Error).message).not.toContain(TOKEN)
  })
})

describe('unleashApiUrl', () => {
  it('ends the URL in /api exactly once', () => {
    expect(unleashApiUrl('https://unleash.example.com')).toBe('https://unleash.example.com/api')
    expect(unleashApiUrl('https://unleash.example.com/api/')).toBe('https://unleash.example.com/api')
    expect(unleashApiUrl('https://example.com/unleash/api')).toBe('https://example.com/unleash/api')
  })
})
