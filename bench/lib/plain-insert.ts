/** The baseline every insert measurement divides by: one plain INSERT of a fresh order row into a legacy-shaped table. */
import type pg from 'pg'
import { nextInsertKey } from './insert-keys.js'
import { LEGACY_TABLE, orderRow } from './setup.js'

/** The INSERT of all seven legacy columns into `table` (a legacy-shaped table). */
export function plainInsertText(table: string): string {
  return `INSERT INTO ${table} (id, customer_id, amount_cents, status, placed_at, meta, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`
}

const LEGACY_INSERT = plainInsertText(LEGACY_TABLE)

/** Inserts a row with a key never used before into the legacy table. */
export async function plainInsert(db: Pick<pg.Pool, 'query'>): Promise<void> {
  const r = orderRow(nextInsertKey())
  await db.query(LEGACY_INSERT, [r.id, r.customer_id, r.amount_cents, r.status, r.placed_at, r.meta, r.note])
}
