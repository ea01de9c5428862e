/** The baseline every insert measurement divides by: one plain INSERT of a fresh order row into a legacy-shaped table. */
import type pg from 'pg'
import { nextInsertKey } from './insert-keys.js'
import { LEGACY_TABLE, orderRow } from './setup.js'

/** The INSERT of all seven legacy columns into `table` (a legacy-shaped table). */
export function plainInsertText(table: string): string {
  return `INSERT INTO ${table} (id, customer_id, amount_cents, status, placed_at, meta, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`
}

const LEGACY_INSERT = plainInsertText(LEGACY_TABLE)

/**
 * Inserts a row with a key never used before into the legacy table: as the
 * application sends it today (an unnamed statement, as Kysely sends it), or
 * `prepared` as a named prepared statement (the physical limit).
 */
export async function plainInsert(db: Pick<pg.Pool, 'query'>, prepared = false): Promise<void> {
  const r = orderRow(nextInsertKey())
  const values = [r.id, r.customer_id, r.amount_cents, r.status, r.placed_at, r.meta, r.note]
  if (prepared) await db.query({ name: 'bench_plain_insert', text: LEGACY_INSERT, values })
  else await db.query(LEGACY_INSERT, values)
}
