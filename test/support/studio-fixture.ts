/**
 * Three related tables renamed together, as in issue 17: studio_session → collection_session,
 * flow → generation_flow, generated_image → generated_asset, each referencing the one before it
 * (on both sides), each with a type change, registered as migration group `studio`.
 */
import { parseConfig } from '../../src/core/parse-config.js'
import { registerMigrations } from '../../src/actions/register.js'
import { initControl } from './control.js'
import type { TestDatabase } from './database.js'

export const STUDIO_DDL = `
  CREATE TABLE studio_session (id bigint PRIMARY KEY, name text NOT NULL, budget_cents integer NOT NULL DEFAULT 0);
  CREATE TABLE flow (id bigint PRIMARY KEY, session_id bigint NOT NULL REFERENCES studio_session (id), title text NOT NULL, step_count integer NOT NULL);
  CREATE TABLE generated_image (id bigint PRIMARY KEY, flow_id bigint NOT NULL REFERENCES flow (id), url text NOT NULL, width_px text NOT NULL);
  CREATE TABLE collection_session (id bigint PRIMARY KEY, name text NOT NULL, budget numeric(12,2) NOT NULL);
  CREATE TABLE generation_flow (id bigint PRIMARY KEY, session_id bigint NOT NULL REFERENCES collection_session (id), title text NOT NULL, step_count bigint NOT NULL);
  CREATE TABLE generated_asset (id bigint PRIMARY KEY, flow_id bigint NOT NULL REFERENCES generation_flow (id), uri text NOT NULL, width integer NOT NULL);`

/** The config as a file would hold it: three migrations and the group that moves them together. */
export const STUDIO_CONFIG = {
  migrations: [
    {
      name: 'sessions_v2',
      legacy: { table: 'public.studio_session', key: ['id'] },
      shadow: { table: 'public.collection_session', key: ['id'] },
      forward: { budget: 'budget_cents / 100.0' },
      backward: { budget_cents: '(budget * 100)::int' },
    },
    {
      name: 'flows_v2',
      legacy: { table: 'public.flow', key: ['id'] },
      shadow: { table: 'public.generation_flow', key: ['id'] },
    },
    {
      name: 'assets_v2',
      legacy: { table: 'public.generated_image', key: ['id'] },
      shadow: { table: 'public.generated_asset', key: ['id'] },
      forward: { uri: 'url', width: 'width_px::int' },
      backward: { url: 'uri', width_px: 'width::text' },
    },
  ],
  groups: [{ name: 'studio', migrations: ['sessions_v2', 'flows_v2', 'assets_v2'] }],
}

export const STUDIO_MEMBERS = ['assets_v2', 'flows_v2', 'sessions_v2'] as const

export async function setupStudio(db: TestDatabase): Promise<void> {
  await initControl(db.pool)
  await db.query(STUDIO_DDL)
  await registerMigrations(db.pool, parseConfig(STUDIO_CONFIG), { schema: 'cutover', actor: 'test' })
}

/** Session `s` with `flows` flows of `images` images each, in the legacy shape (ids derived from `s`). */
export function studioRows(s: number, flows = 2, images = 2) {
  const session = { id: String(s), name: `session ${s}`, budget_cents: 100 * s + 7 }
  const flowRows = Array.from({ length: flows }, (_, f) => ({
    id: String(s * 100 + f),
    session_id: String(s),
    title: `flow ${f}`,
    step_count: f + 3,
  }))
  const imageRows = flowRows.flatMap((f) =>
    Array.from({ length: images }, (_, i) => ({
      id: String(Number(f.id) * 100 + i),
      flow_id: f.id,
      url: `https://img/${f.id}/${i}`,
      width_px: String(256 * (i + 1)),
    })),
  )
  return { session, flows: flowRows, images: imageRows }
}
