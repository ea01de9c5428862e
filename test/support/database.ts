/** Gives each test file a fresh database cloned from the run's template, dropped when the file ends. */
import { randomBytes } from 'node:crypto'
import { afterAll, inject } from 'vitest'
import pg from 'pg'
import { TEMPLATE_DATABASE, TEST_DATABASE_PREFIX } from './names.js'

export interface TestDatabase {
  /** Connection string of the fresh database. */
  readonly url: string
  readonly name: string
  /** A pool on the fresh database, ended when the file ends. */
  readonly pool: pg.Pool
  /** Runs SQL as the superuser in the fresh database. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>
}

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** Creates the database now; call it at the top of a test file (top-level await) or in beforeAll. */
export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl')
  const name = `${TEST_DATABASE_PREFIX}${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DATABASE}"`)
  } finally {
    await admin.end()
  }
  const url = databaseUrl(adminUrl, name)
  const pool = new pg.Pool({ connectionString: url, max: 20 })
  pool.on('error', () => undefined)
  afterAll(async () => {
    await pool.end()
    const dropper = new pg.Client({ connectionString: adminUrl })
    await dropper.connect()
    try {
      await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    } finally {
      await dropper.end()
    }
  })
  return {
    url,
    name,
    pool,
    query: async (text, values) => (await pool.query(text, values)).rows,
  }
}
