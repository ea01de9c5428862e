/**
 * A real Unleash server for the flags tests: the `unleash-server` npm package (not a dependency of
 * cutover: it is large and its current releases need Node 22), run in a child process on the test
 * PostgreSQL. Install it with `npm install --no-save unleash-server@7.5.1` in /tmp/unleash, in this
 * repository, or in the directory named by CUTOVER_UNLEASH_SERVER_DIR.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../src/demo/embedded-server.js'
import type { TestDatabase } from './database.js'

const CHILD = fileURLToPath(new URL('./unleash-server-child.mjs', import.meta.url))
const REPO = fileURLToPath(new URL('../..', import.meta.url))

export type UnleashServerPackage =
  | { readonly found: true; readonly entry: string; readonly version: string }
  | { readonly found: false; readonly reason: string }

/** Where the unleash-server package is, or why it is not used. */
export function findUnleashServer(): UnleashServerPackage {
  const roots = [process.env.CUTOVER_UNLEASH_SERVER_DIR, REPO, '/tmp/unleash'].filter((d): d is string => Boolean(d))
  for (const root of roots) {
    for (const dir of [join(root, 'node_modules', 'unleash-server'), root]) {
      const manifestPath = join(dir, 'package.json')
      if (!existsSync(manifestPath)) continue
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
        name?: string
        version?: string
        exports?: unknown
      }
      if (manifest.name !== 'unleash-server') continue
      const entry = join(dir, typeof manifest.exports === 'string' ? manifest.exports : 'dist/lib/server-impl.js')
      if (existsSync(entry)) return { found: true, entry, version: manifest.version ?? '?' }
    }
  }
  return {
    found: false,
    reason:
      `the unleash-server package is not installed (looked in ${roots.join(', ')}); ` +
      'run: mkdir -p /tmp/unleash && cd /tmp/unleash && npm install --no-save unleash-server@7.5.1',
  }
}

export interface UnleashServer {
  /** `http://127.0.0.1:<port>/api`. */
  readonly apiUrl: string
  readonly adminToken: string
  /** A backend token for project default, environment development. */
  readonly clientToken: string
  /** One request with the admin token; the parsed body. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>
  /** What the client API serves now (with the client token). */
  clientFeatures(): Promise<{
    features: Array<{
      name: string
      enabled: boolean
      strategies: Array<{ name: string; parameters: Record<string, string> }>
    }>
  }>
  /** Stops the server (SIGTERM, then SIGKILL); safe to call twice. */
  stop(): Promise<void>
  /** Starts it again after `stop`, on the same port, database and tokens (what it stored survives). */
  restart(): Promise<void>
}

export async function startUnleashServer(entry: string, database: TestDatabase): Promise<UnleashServer> {
  const db = new URL(database.url)
  const port = await freePort()
  const adminToken = `*:*.${randomBytes(16).toString('hex')}`
  const clientToken = `default:development.${randomBytes(16).toString('hex')}`
  const config = {
    db: {
      host: db.hostname,
      port: Number(db.port || 5432),
      user: decodeURIComponent(db.username),
      password: decodeURIComponent(db.password),
      database: database.name,
    },
    port,
    adminToken,
    clientToken,
  }
  const launch = async (): Promise<ChildProcess> => {
    const started = spawn(process.execPath, [CHILD, entry], {
      env: { ...process.env, CUTOVER_UNLEASH_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    await listening(started, 90_000)
    return started
  }
  let child = await launch()
  const apiUrl = `http://127.0.0.1:${port}/api`
  const request = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(apiUrl + path, {
      method,
      headers: { authorization: token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined }
  }
  let stopped: Promise<void> | undefined
  return {
    apiUrl,
    adminToken,
    clientToken,
    admin: (method, path, body) => request(adminToken, method, path, body),
    clientFeatures: async () => (await request(clientToken, 'GET', '/client/features')).body as never,
    stop: () => (stopped ??= stopChild(child)),
    restart: async () => {
      await stopped
      child = await launch()
      stopped = undefined
    },
  }
}

function listening(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`unleash-server did not start within ${timeoutMs} ms: ${stderr.slice(-2000)}`))
    }, timeoutMs)
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`unleash-server exited with ${code} before listening: ${stderr.slice(-2000)}`))
    })
  })
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}
