/** Sets a migration's session settings (core/session-settings.ts) for the rest of the caller's transaction, in one round trip. */
import type pg from 'pg'
import type { SessionSettings } from '../core/session-settings.js'

/** For the jobs, which run in transactions of their own; the DAL sets them inside its statements instead. */
export async function applySessionSettings(
  client: pg.ClientBase,
  settings: SessionSettings | undefined,
): Promise<void> {
  const pairs = Object.entries(settings ?? {})
  if (pairs.length === 0) return
  await client.query(
    'SELECT pg_catalog.set_config(s.name, s.value, true) FROM unnest($1::text[], $2::text[]) AS s (name, value)',
    [pairs.map(([name]) => name), pairs.map(([, value]) => value)],
  )
}
