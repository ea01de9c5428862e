/** The job benchmarks' data: the registered migration's legacy table refilled with N rows, and the resets between runs. */
import type pg from 'pg'
import { LEGACY_TABLE, MIGRATION, SCHEMA, SHADOW_TABLE } from './setup.js'

/**
 * Empties both tables and fills legacy with keys 1…`rows`, each row shaped
 * like `orderRow` (a fresh uuid per row), then VACUUM ANALYZE so no timed run
 * pays for setting hint bits or lacks statistics.
 */
export async function fillLegacy(pool: pg.Pool, rows: number): Promise<void> {
  await pool.query(`TRUNCATE ${LEGACY_TABLE}, ${SHADOW_TABLE}`)
  await pool.query(`DELETE FROM ${SCHEMA}.divergences WHERE migration = $1`, [MIGRATION])
  await pool.query(
    `INSERT INTO ${LEGACY_TABLE} (id, customer_id, amount_cents, status, placed_at, meta, note)
     SELECT g, gen_random_uuid()::text, 1000 + g % 9000, 'new', timestamptz '2026-01-02T03:04:05.678Z' + g * interval '1 second',
            jsonb_build_object('channel', 'web', 'items', jsonb_build_array(jsonb_build_object('sku', 'sku-' || g % 97, 'qty', 1 + g % 3)), 'coupon', null),
            'leave at the door'
       FROM generate_series(1, $1::bigint) AS g`,
    [rows],
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
