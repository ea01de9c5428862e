/** The job benchmarks' data: the registered migration's legacy table refilled with N rows, and the resets between runs. */
import type pg from 'pg'
import { quoteIdent } from '../../src/core/identifiers.js'
import { LEGACY_TABLE, MIGRATION, SCHEMA, SHADOW_TABLE } from './setup.js'

/** Keys per INSERT of the fill: statements of seconds, not one of many minutes. */
const FILL_SLICE_ROWS = 250_000

/**
 * Empties both tables and fills legacy with keys 1…`rows`, each row shaped
 * like `orderRow` (a fresh uuid per row), then VACUUM ANALYZE so no timed run
 * pays for setting hint bits or lacks statistics. Legacy's indexes (its
 * primary key and the customer index) are dropped for the fill and built again
 * after it, from their own definitions: inserting 10,000,000 random uuids into
 * a btree one by one took 23 minutes under load, sorting them once takes
 * seconds. The timed runs start from the same state as before: the same rows
 * in the same (key) order on the heap, the same indexes, vacuumed and analysed.
 */
export async function fillLegacy(pool: pg.Pool, rows: number): Promise<void> {
  await pool.query(`TRUNCATE ${LEGACY_TABLE}, ${SHADOW_TABLE}`)
  await pool.query(`DELETE FROM ${SCHEMA}.divergences WHERE migration = $1`, [MIGRATION])
  // A key constraint is built as its index (which runs alongside the other builds; ADD CONSTRAINT would lock them
  // out), then attached to it.
  const { rows: constraints } = await pool.query<{ name: string; kind: string; index: string }>(
    `SELECT c.conname AS name, CASE c.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END AS kind, pg_get_indexdef(c.conindid) AS index
       FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u') ORDER BY c.conname`,
    [LEGACY_TABLE],
  )
  const { rows: indexes } = await pool.query<{ definition: string; index: string }>(
    `SELECT pg_get_indexdef(i.indexrelid) AS definition, i.indexrelid::regclass::text AS index
       FROM pg_index i WHERE i.indrelid = $1::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
      ORDER BY 2`,
    [LEGACY_TABLE],
  )
  for (const c of constraints) await pool.query(`ALTER TABLE ${LEGACY_TABLE} DROP CONSTRAINT ${quoteIdent(c.name)}`)
  for (const i of indexes) await pool.query(`DROP INDEX ${i.index}`)
  // One connection, slice after slice: the heap holds the rows in key order, as one INSERT wrote them before (slices
  // inserted from several connections at once interleave their pages: the key's correlation fell to 0.25, and the
  // jobs' key-range scans read scattered pages that the whole-table baselines never notice).
  for (let first = 1; first <= rows; first += FILL_SLICE_ROWS) {
    await pool.query(
      `INSERT INTO ${LEGACY_TABLE} (id, customer_id, amount_cents, status, placed_at, meta, note)
       SELECT g, gen_random_uuid()::text, 1000 + g % 9000, 'new', timestamptz '2026-01-02T03:04:05.678Z' + g * interval '1 second',
              jsonb_build_object('channel', 'web', 'items', jsonb_build_array(jsonb_build_object('sku', 'sku-' || g % 97, 'qty', 1 + g % 3)), 'coupon', null),
              'leave at the door'
         FROM generate_series($1::bigint, $2::bigint) AS g`,
      [first, Math.min(rows, first + FILL_SLICE_ROWS - 1)],
    )
  }
  // The builds sort in memory rather than in temporary files, one connection each, all at once.
  await Promise.all(
    [...constraints.map((c) => c.index), ...indexes.map((i) => i.definition)].map(async (text) => {
      const client = await pool.connect()
      try {
        await client.query("SET maintenance_work_mem = '512MB'")
        await client.query(text)
      } finally {
        await client.query('RESET maintenance_work_mem').catch(() => undefined)
        client.release()
      }
    }),
  )
  for (const c of constraints)
    await pool.query(
      `ALTER TABLE ${LEGACY_TABLE} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.kind} USING INDEX ${quoteIdent(c.name)}`,
    )
  await pool.query(`VACUUM ANALYZE ${LEGACY_TABLE}`)
}

/** Deletes the migration's `kind` jobs (their chunks cascade), so the next run starts a fresh job. */
export async function deleteJobs(pool: pg.Pool, kind: 'backfill' | 'verify'): Promise<void> {
  await pool.query(`DELETE FROM ${SCHEMA}.jobs WHERE migration = $1 AND kind = $2`, [MIGRATION, kind])
}

/** An empty shadow and no backfill job: the state every backfill run, ours or the baseline's, starts from. */
export async function resetShadow(pool: pg.Pool): Promise<void> {
  await pool.query(`TRUNCATE ${SHADOW_TABLE}`)
  await deleteJobs(pool, 'backfill')
}

/**
 * Flushes dirty buffers before a timed run, so no run pays for the previous
 * one's writes. CHECKPOINT needs superuser or pg_checkpoint; without it runs
 * go on, a little noisier.
 */
export async function checkpoint(pool: pg.Pool): Promise<void> {
  await pool.query('CHECKPOINT').catch(() => undefined)
}
