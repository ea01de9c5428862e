/** Test helpers around the control schema: apply it, and snapshot it to show a refusal wrote nothing. */
import type pg from 'pg'
import { applyControlSchema } from '../../src/store/control-schema/apply-control-schema.js'
import { quoteIdent } from '../../src/core/identifiers.js'

export async function initControl(pool: pg.Pool, schema = 'cutover'): Promise<void> {
  await applyControlSchema(pool, { schema })
}

/** Every row of every control table, as one string: equal before and after means nothing was written. */
export async function controlSnapshot(pool: pg.Pool, schema = 'cutover'): Promise<string> {
  const s = quoteIdent(schema)
  const tables = ['migrations', 'state', 'events', 'divergences', 'jobs', 'job_chunks', 'schema_versions']
  const parts: string[] = []
  for (const table of tables) {
    const { rows } = await pool.query(
      `SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text AS j FROM ${s}.${quoteIdent(table)} t`,
    )
    parts.push(`${table}=${String(rows[0]?.j)}`)
  }
  return parts.join('\n')
}
