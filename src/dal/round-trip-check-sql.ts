/**
 * The DAL write's round-trip check, in the write's own statement: each written legacy row against the shadow row
 * the same statement wrote, read back through `backward` as the DAL would serve it. Only the legacy columns whose
 * round trip is not the identity are judged (shape/read-back-columns.ts); a migration with none gets no check.
 */
import { quoteLiteral } from '../core/identifiers.js'
import { changingReadBackColumns } from '../shape/read-back-columns.js'
import { q, type MigrationShape } from '../shape/migration-shape.js'

/** The result column carrying, once per statement, the rows whose round trip changes them (a jsonb array, or NULL). */
export const ROUND_TRIP_COLUMN = '__cutover_round_trip'

export interface RoundTripCheck {
  /** `rt AS (…)`: one row per written row that reads back different, `v` its key, columns and both values. */
  readonly cte: string
  /** The item the final SELECT adds: the aggregate of `rt`, NULL when every row comes back unchanged. */
  readonly item: string
}

const checks = new WeakMap<MigrationShape, RoundTripCheck | null>()

/**
 * For a legacy-authoritative write whose legacy rows are CTE `w` and whose shadow upsert is CTE `s` (`RETURNING *`);
 * null when no column can change. Built once per shape.
 */
export function roundTripCheck(shape: MigrationShape): RoundTripCheck | null {
  const cached = checks.get(shape)
  if (cached !== undefined) return cached
  const columns = changingReadBackColumns(shape)
  let check: RoundTripCheck | null = null
  if (columns.length > 0) {
    const backwardOf = new Map(shape.backward.map((m) => [m.column, m.expression]))
    const forwardKey = shape.shadowKey.map((k, i) => `(${shape.forward.find((m) => m.column === k)?.expression ?? q(k)}) AS ${q(`__fk${i}`)}`)
    const differs = columns.map((c) => `${c.sql.key(c.sql.normalise(`w.${q(c.column)}`))} IS DISTINCT FROM ${c.sql.key(c.sql.normalise(`rb.${q(c.column)}`))}`)
    const value = `jsonb_build_object('key', jsonb_build_object(${shape.legacyKey.map((k) => `${quoteLiteral(k)}, w.${q(k)}::text`).join(', ')}), ` +
      `'columns', array_remove(ARRAY[${columns.map((c, i) => `CASE WHEN ${differs[i]} THEN ${quoteLiteral(c.column)} END`).join(', ')}]::text[], NULL), ` +
      `'legacy', jsonb_build_object(${columns.map((c) => `${quoteLiteral(c.column)}, w.${q(c.column)}::text`).join(', ')}), ` +
      `'read_back', jsonb_build_object(${columns.map((c) => `${quoteLiteral(c.column)}, rb.${q(c.column)}::text`).join(', ')}))`
    check = {
      cte: `rt AS (SELECT ${value} AS v FROM w CROSS JOIN LATERAL (SELECT ${forwardKey.join(', ')}) AS fk ` +
        `JOIN LATERAL (SELECT b.* FROM s AS st CROSS JOIN LATERAL (SELECT ${columns.map((c) => `(${backwardOf.get(c.column) ?? 'NULL'})::${c.type} AS ${q(c.column)}`).join(', ')}) AS b ` +
        `WHERE ${shape.shadowKey.map((k, i) => `st.${q(k)} = fk.${q(`__fk${i}`)}`).join(' AND ')}) AS rb ON true ` +
        `WHERE ${differs.join(' OR ')})`,
      item: `(SELECT jsonb_agg(rt.v) FROM rt) AS ${q(ROUND_TRIP_COLUMN)}`,
    }
  }
  checks.set(shape, check)
  return check
}
