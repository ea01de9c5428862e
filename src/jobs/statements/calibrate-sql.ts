/**
 * The SQL of calibration: a sample of live legacy rows compared with
 * themselves through the read comparison's own projection (one statement, one
 * snapshot), and the check of which normaliser would make a column's
 * differing pairs equal.
 */
import { normaliserSql, type Normaliser } from '../../core/normalisers.js'
import type { Statement } from '../../db/statement.js'
import { q, type MigrationShape } from '../../shape/migration-shape.js'
import { comparedSides } from '../../shape/compared-sides.js'

/** The column pairing the two sides' rows of one sampled legacy row. */
export const SAMPLE_COLUMN = '__cutover_n'

/** One row: `estimate`, the planner's row count of the legacy table (negative when never analysed). */
export function rowEstimateSql(shape: MigrationShape): Statement {
  return {
    text: 'SELECT reltuples::float8 AS estimate FROM pg_class WHERE oid = $1::regclass',
    values: [shape.legacyTable],
  }
}

/**
 * The legacy table's rows sampled by block (`TABLESAMPLE SYSTEM`, $1 percent,
 * at most $2 rows), each carried through `forward` into a row of the shadow's
 * shape and column types, as the dual write and the backfill would store it,
 * then both projected exactly as a compared read projects legacy and shadow
 * (read-statement.ts `comparedSides`). Shadow columns the mapping does not
 * fill are NULL: they are never compared, and evaluating their defaults could
 * consume sequence values.
 */
export function calibrationSql(shape: MigrationShape, percent: number, limit: number): Statement {
  const mapped = new Map(shape.forward.map((m) => [m.column, m.expression]))
  const typedRow = shape.shadowColumns
    .map((c) => `(${mapped.get(c.name) ?? 'NULL'})::${c.type} AS ${q(c.name)}`)
    .join(', ')
  const n = q(SAMPLE_COLUMN)
  const text = `WITH l AS (
  SELECT row_number() OVER () AS ${n}, lt.* FROM (SELECT * FROM ${shape.legacyTable} TABLESAMPLE SYSTEM ($1) LIMIT $2) AS lt
), s AS (
  SELECT l.${n}, ${typedRow} FROM l
)
${comparedSides(shape, { legacy: 'l', shadow: 's', carry: SAMPLE_COLUMN })}`
  return { text, values: [percent, limit] }
}

/**
 * One row, one boolean column per normaliser (named by its index): whether it
 * makes every pair ($1[i], $2[i]) of comparable values of a column of `type`
 * equal, applied as the comparison applies it (core/normalisers.ts).
 */
export function normaliserFixSql(
  type: string,
  specs: readonly Normaliser[],
  legacy: readonly string[],
  shadow: readonly string[],
): Statement {
  const items = specs.map((spec, i) => {
    const side = (v: string): string => `(${normaliserSql(spec, `(p.${v})::${type}`)})::text`
    return `bool_and(${side('a')} IS NOT DISTINCT FROM ${side('b')}) AS "${i}"`
  })
  return {
    text: `SELECT ${items.join(', ')} FROM unnest($1::text[], $2::text[]) AS p(a, b)`,
    values: [[...legacy], [...shadow]],
  }
}
