/** Drives `cutover doctor` through the real CLI against one test database, and opens extra sessions to create situations. */
import pg from 'pg'
import { afterAll, expect } from 'vitest'
import { runCli } from './cli.js'
import type { TestDatabase } from './database.js'

export interface Finding {
  migration: string | null
  severity: string
  code: string
  message: string
  command: string | null
  query?: string
  applySql?: string[]
}
export interface DoctorDoc {
  findings: Finding[]
  errors: number
  warnings: number
  migrations?: string[]
  applied?: string[]
}

/** The orders fixture's foreign keys (varchar into a uuid shadow) can never reach parity: schema-parity.test.ts covers it. */
export const DOCTOR = ['doctor', '--skip', 'parity']

export function doctorCli(db: TestDatabase) {
  const run = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'ana'])
  const json = (...args: string[]) => run(...args, '--json')
  const clients: pg.Client[] = []
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined)
  })
  return {
    run,
    json,
    /** `cutover doctor --skip parity … --json`: its exit code and document. */
    async doctor(...args: string[]): Promise<{ code: number | null; doc: DoctorDoc }> {
      const result = await json(...DOCTOR, ...args)
      return { code: result.code, doc: result.json<DoctorDoc>() }
    },
    /** Asserts doctor finds nothing wrong with orders_v2 and exits 0. */
    async expectHealthy(): Promise<void> {
      const result = await json(...DOCTOR, 'orders_v2')
      expect(result.json<DoctorDoc>()).toEqual({ findings: [], errors: 0, warnings: 0, migrations: ['orders_v2'] })
      expect(result.code).toBe(0)
    },
    /** Another session (closed after the file's tests), to hold locks or transactions open. */
    async connect(): Promise<pg.Client> {
      const client = new pg.Client({ connectionString: db.url })
      client.on('error', () => undefined)
      await client.connect()
      clients.push(client)
      return client
    },
  }
}
