/** The one upsert of open divergences: one open row per key; a key seen again is counted and brought up to date. */
import { controlSchema } from '../../db/control-schema.js'

/** The control schema's divergences table, quoted. */
export function divergencesTable(schema: string): string {
  return `${controlSchema(schema).quoted}.divergences`
}

export type DivergenceColumn =
  'migration' | 'key' | 'source' | 'kind' | 'legacy_hash' | 'shadow_hash' | 'legacy_row' | 'shadow_row' | 'detail'

export interface DivergenceUpsert {
  /** The divergences table, quoted (divergencesTable). */
  readonly table: string
  /** The columns `rows` gives, in its order. */
  readonly columns: readonly DivergenceColumn[]
  /** `VALUES (…)`, or a `SELECT` giving `columns`. */
  readonly rows: string
  /** What a key already open takes from the new row, besides `last_seen` and `seen_count`, which are always updated. */
  readonly refreshed: readonly DivergenceColumn[]
  /** A RETURNING list, for a caller that reads one. */
  readonly returning?: string
}

/**
 * `INSERT … ON CONFLICT` on the one open row per key (the partial unique index on `(migration, key)` where
 * `repaired_at IS NULL`): a new key is inserted, an open one gets `last_seen` now, `seen_count` + 1 and the
 * `refreshed` columns of the new row. Statement text only: the DAL, verify, the read paths and the bypass net's
 * function compose it with their own rows, values and parameters.
 */
export function divergenceUpsertSql(upsert: DivergenceUpsert): string {
  const refreshed = upsert.refreshed.map((c) => `, ${c} = EXCLUDED.${c}`).join('')
  return `INSERT INTO ${upsert.table} AS dv (${upsert.columns.join(', ')})
  ${upsert.rows}
  ON CONFLICT (migration, key) WHERE repaired_at IS NULL
  DO UPDATE SET last_seen = clock_timestamp(), seen_count = dv.seen_count + 1${refreshed}${
    upsert.returning === undefined
      ? ''
      : `
  RETURNING ${upsert.returning}`
  }`
}
