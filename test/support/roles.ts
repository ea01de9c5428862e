/** Login roles for the least-privilege tests, granted exactly what sql/grants/ gives them. */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll } from 'vitest'
import type { TestDatabase } from './database.js'

export type GrantFile = 'application' | 'operator'

/** Applies sql/grants/FILE.sql to `role` for the orders tables (or the tables given), as their owner would. */
export async function applyGrants(
  db: TestDatabase,
  file: GrantFile,
  role: string,
  tables = { legacy: '"public"."orders"', shadow: '"public"."orders_v2"' },
): Promise<void> {
  const text = await readFile(fileURLToPath(new URL(`../../sql/grants/${file}.sql`, import.meta.url)), 'utf8')
  await db.query(
    text
      .replaceAll(':ROLE', `"${role}"`)
      .replaceAll(':CUTOVER_SCHEMA', '"cutover"')
      .replaceAll(':LEGACY_TABLE', tables.legacy)
      .replaceAll(':SHADOW_TABLE', tables.shadow),
  )
}

/** The connection string of `role` (password `pw`) on the test database. */
export function urlFor(db: TestDatabase, role: string): string {
  const url = new URL(db.url)
  url.username = role
  url.password = 'pw'
  return url.toString()
}

/**
 * Creates a login role (password `pw`) with USAGE on public, and a client of it that the file's end closes;
 * the role and what it owns are dropped then too.
 */
export async function loginRole(db: TestDatabase, role: string, grants?: GrantFile): Promise<pg.Client> {
  await db.query(`CREATE ROLE "${role}" LOGIN PASSWORD 'pw'; GRANT USAGE ON SCHEMA public TO "${role}"`)
  if (grants) await applyGrants(db, grants, role)
  const client = new pg.Client({ connectionString: urlFor(db, role), application_name: role })
  await client.connect()
  client.on('error', () => undefined)
  afterAll(async () => {
    await client.end().catch(() => undefined)
    await db.query(`DROP OWNED BY "${role}" CASCADE; DROP ROLE IF EXISTS "${role}"`).catch(() => undefined)
  })
  return client
}
