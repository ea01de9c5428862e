/**
 * The DAL write's round-trip check, in the write's own statement: each written legacy row of CTE `w` read back the
 * way the DAL would serve it once its shadow row is read, `backward(forward(row))`, computed from `w` alone (LATERAL
 * subqueries with no FROM, which PostgreSQL flattens into the final SELECT's projection: no extra plan node, no read
 * of the shadow). Only the legacy columns whose round trip is not the identity are judged
 * (shape/read-back-columns.ts); a migration with none gets no check. A shadow column the mapping does not fill reads
 * as NULL here (its default is not evaluated: it might draw from a sequence).
 */
import { quoteLiteral } from '../core/identifiers.js'
import { changingReadBackColumns } from '../shape/read-back-columns.js'
import { q, type MigrationShape } from '../shape/migration-shape.js'

/** The result column carrying, per written row, what reads back different (jsonb, NULL when nothing). */
export const ROUND_TRIP_COLUMN = '__cutover_round_trip'

export interface RoundTripCheck {
  /** The FROM items to add after `w`: ` CROSS JOIN LATERAL (…) AS rb`. */
  readonly from: string
  /** The row's verdict: a jsonb object (key, columns, both values) when it reads back different, else NULL. */
  readonly value: string
}

const checks = new WeakMap<MigrationShape, RoundTripCheck | null>()

/** Built once per shape; null when no legacy column can read back different. */
export function roundTripCheck(shape: MigrationShape): RoundTripCheck | null {
  const cached = checks.get(shape)
  if (cached !== undefined) return cached
  const columns = changingReadBackColumns(shape)
  let check: RoundTripCheck | null = null
  if (columns.length > 0) {
    const forwardOf = new Map(shape.forward.map((m) => [m.column, m.expression]))
    const backwardOf = new Map(shape.backward.map((m) => [m.column, m.expression]))
    const shadowRow = shape.shadowColumns
      .map((c) => `(${forwardOf.get(c.name) ?? 'NULL'})::${c.type} AS ${q(c.name)}`)
      .join(', ')
    const readBack = columns
      .map((c) => `(${backwardOf.get(c.column) ?? 'NULL'})::${c.type} AS ${q(c.column)}`)
      .join(', ')
    const differs = columns.map(
      (c) =>
        `${c.sql.key(c.sql.normalise(`w.${q(c.column)}`))} IS DISTINCT FROM ${c.sql.key(c.sql.normalise(`rb.${q(c.column)}`))}`,
    )
    const value =
      `jsonb_build_object('key', jsonb_build_object(${shape.legacyKey.map((k) => `${quoteLiteral(k)}, w.${q(k)}::text`).join(', ')}), ` +
      `'columns', array_remove(ARRAY[${columns.map((c, i) => `CASE WHEN ${differs[i]} THEN ${quoteLiteral(c.column)} END`).join(', ')}]::text[], NULL), ` +
      `'legacy', jsonb_build_object(${columns.map((c) => `${quoteLiteral(c.column)}, w.${q(c.column)}::text`).join(', ')}), ` +
      `'read_back', jsonb_build_object(${columns.map((c) => `${quoteLiteral(c.column)}, rb.${q(c.column)}::text`).join(', ')}))`
    check = {
      // The inner subquery sees only `w` (its outer level), so a legacy column and a shadow column of one name never clash.
      from: ` CROSS JOIN LATERAL (SELECT ${readBack} FROM (SELECT ${shadowRow}) AS st) AS rb`,
      value: `CASE WHEN ${differs.join(' OR ')} THEN ${value} END`,
    }
  }
  checks.set(shape, check)
  return check
}
