/**
 * What a user would do instead of cutover's one-statement dual write, each
 * insert measured against the plain legacy insert exactly as
 * `dual_write_insert` is: two statements in a transaction, two statements
 * without one, and a trigger that copies each row (pt-online-schema-change,
 * pg-osc).
 */
import type pg from 'pg'
import type { Row } from '../src/dal/migration-dal.js'
import { nextInsertKey } from './lib/insert-keys.js'
import { runInterleaved, type Comparison, type RunSettings } from './lib/latency.js'
import { plainInsert, plainInsertText } from './lib/plain-insert.js'
import { LEGACY_TABLE, orderRow, SHADOW_TABLE, type BenchWorld } from './lib/setup.js'

const SHADOW_COLUMNS = 'id, customer, amount, status, placed_at, meta, note'
const LEGACY_INSERT = plainInsertText(LEGACY_TABLE)
const SHADOW_INSERT = `INSERT INTO ${SHADOW_TABLE} (${SHADOW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`

/** The trigger alternative's own pair of tables, so its trigger never fires on the baseline's inserts. */
export const TRIGGER_LEGACY_TABLE = `${LEGACY_TABLE}_trg`
const TRIGGER_SHADOW_TABLE = `${SHADOW_TABLE}_trg`
const TRIGGER_INSERT = plainInsertText(TRIGGER_LEGACY_TABLE)

function legacyValues(r: Row): unknown[] {
  return [r.id, r.customer_id, r.amount_cents, r.status, r.placed_at, r.meta, r.note]
}

/** The migration's `forward` mapping done in the application, as hand-written double writes would. */
function shadowValues(r: Row): unknown[] {
  return [r.id, r.customer_id, (Number(r.amount_cents) / 100).toFixed(2), r.status, r.placed_at, r.meta, r.note]
}

function againstPlainInsert(
  world: BenchWorld,
  clients: number,
  settings: RunSettings,
  candidate: () => Promise<void>,
): Promise<Comparison> {
  return runInterleaved({
    clients,
    ...settings,
    baseline: () => plainInsert(world.pool),
    prepared: () => plainInsert(world.pool, true),
    candidate,
  })
}

/** BEGIN; INSERT legacy; INSERT shadow; COMMIT on one pooled connection: atomic, four round trips. */
export function measureTwoStatementsTx(world: BenchWorld, clients: number, settings: RunSettings): Promise<Comparison> {
  return againstPlainInsert(world, clients, settings, async () => {
    const r = orderRow(nextInsertKey())
    const client = await world.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(LEGACY_INSERT, legacyValues(r))
      await client.query(SHADOW_INSERT, shadowValues(r))
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  })
}

/** Two autocommitted statements through the pool: two round trips, and a crash between them leaves the shadow without the row. */
export function measureDoubleWrite(world: BenchWorld, clients: number, settings: RunSettings): Promise<Comparison> {
  return againstPlainInsert(world, clients, settings, async () => {
    const r = orderRow(nextInsertKey())
    await world.pool.query(LEGACY_INSERT, legacyValues(r))
    await world.pool.query(SHADOW_INSERT, shadowValues(r))
  })
}

/** One plain insert into a legacy-shaped table whose AFTER INSERT trigger upserts the row into its shadow. */
export function measureTriggerCopy(world: BenchWorld, clients: number, settings: RunSettings): Promise<Comparison> {
  return againstPlainInsert(world, clients, settings, async () => {
    await world.pool.query(TRIGGER_INSERT, legacyValues(orderRow(nextInsertKey())))
  })
}

/**
 * Creates the trigger alternative's tables as copies of the migration's (same
 * columns, indexes and rows) and the row trigger pt-online-schema-change
 * creates for inserts (its REPLACE INTO is an upsert here); pg-osc's trigger
 * writes an audit row instead, replayed later, which costs no less.
 */
export async function prepareTriggerCopy(pool: pg.Pool): Promise<void> {
  await pool.query(`
    CREATE TABLE ${TRIGGER_LEGACY_TABLE} (LIKE ${LEGACY_TABLE} INCLUDING ALL);
    CREATE TABLE ${TRIGGER_SHADOW_TABLE} (LIKE ${SHADOW_TABLE} INCLUDING ALL);
    INSERT INTO ${TRIGGER_LEGACY_TABLE} SELECT * FROM ${LEGACY_TABLE};
    INSERT INTO ${TRIGGER_SHADOW_TABLE} SELECT * FROM ${SHADOW_TABLE};
    CREATE FUNCTION ${TRIGGER_LEGACY_TABLE}_copy() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${TRIGGER_SHADOW_TABLE} (${SHADOW_COLUMNS})
      VALUES (NEW.id, NEW.customer_id::uuid, NEW.amount_cents / 100.0, NEW.status, NEW.placed_at, NEW.meta, NEW.note)
      ON CONFLICT (id) DO UPDATE SET customer = EXCLUDED.customer, amount = EXCLUDED.amount, status = EXCLUDED.status,
        placed_at = EXCLUDED.placed_at, meta = EXCLUDED.meta, note = EXCLUDED.note;
      RETURN NULL;
    END $$;
    CREATE TRIGGER ${TRIGGER_LEGACY_TABLE}_copy AFTER INSERT ON ${TRIGGER_LEGACY_TABLE}
      FOR EACH ROW EXECUTE FUNCTION ${TRIGGER_LEGACY_TABLE}_copy();`)
  for (const table of [TRIGGER_LEGACY_TABLE, TRIGGER_SHADOW_TABLE]) await pool.query(`VACUUM ANALYZE ${table}`)
}
