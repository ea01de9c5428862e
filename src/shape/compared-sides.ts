/**
 * The compared projection of a migration's two sides: each row in the legacy
 * shape, tagged with its side and carrying its comparable projection. The DAL's
 * compared reads and `cutover calibrate` both build on it, so they judge alike.
 */
import { actualItems, expectedItems, readBackItems } from '../core/compare-sql.js'
import { readBackColumns } from './read-back-columns.js'
import { q, typeOf, type MigrationShape } from './migration-shape.js'

export const SIDE_COLUMN = '__cutover_side'
export const COMPARE_COLUMN = '__cutover_cmp'

/** Every legacy column, computed from a shadow row `s` through `backward` (NULL for generated columns). */
export function backwardItems(shape: MigrationShape): string {
  return shape.legacyColumns
    .map((c) => {
      const mapped = shape.backward.find((m) => m.column === c.name)
      return `(${mapped ? mapped.expression : 'NULL'})::${c.type} AS ${q(c.name)}`
    })
    .join(', ')
}

function comparable(shape: MigrationShape): { expected: string; actual: string } {
  const columns = shape.forward.map((m) => ({
    column: m.column,
    type: typeOf(shape.shadowColumns, m.column),
    expression: m.expression,
  }))
  return {
    expected: expectedItems(columns, shape.definition.compare),
    actual: actualItems(columns, shape.definition.compare, 's'),
  }
}

/** Names the two row sources of {@link comparedSides}, and a column both carry to pair their rows. */
export interface ComparedSources {
  /** A relation of legacy rows (all legacy columns). */
  readonly legacy: string
  /** A relation of rows in the shadow's shape (its mapped columns). */
  readonly shadow: string
  /** A column of both relations returned second on each side (after the side tag), to pair rows; none when absent. */
  readonly carry?: string
  /**
   * Also judge the row as the caller receives it: each legacy column of the legacy row against the shadow row read
   * back through `backward` (keys `read_back.<column>`), so a mapping that loses information is a divergence.
   */
  readonly readBack?: boolean
}

/**
 * The compared projection of both sides: each legacy row of `legacy` in the
 * legacy shape with its expected comparable projection, then each row of
 * `shadow` served through `backward` with its actual one. The read comparison
 * and calibration both use this text, so they judge equality the same way.
 */
export function comparedSides(shape: MigrationShape, sources: ComparedSources): string {
  const { expected, actual } = comparable(shape)
  const readBack = sources.readBack ? readBackColumns(shape) : []
  const legacyBack = readBack.length > 0 ? `, ${readBackItems(readBack, 'l')}` : ''
  const shadowBack = readBack.length > 0 ? `, ${readBackItems(readBack, 'b')}` : ''
  const carried = (alias: string): string => (sources.carry ? `${alias}.${q(sources.carry)}, ` : '')
  const legacyColumns = shape.legacyColumns.map((c) => `l.${q(c.name)}`).join(', ')
  return `SELECT 'legacy' AS ${q(SIDE_COLUMN)}, ${carried('l')}${legacyColumns}, to_jsonb(e) AS ${q(COMPARE_COLUMN)}
  FROM ${sources.legacy} AS l CROSS JOIN LATERAL (SELECT ${expected}${legacyBack}) AS e
UNION ALL
SELECT 'shadow', ${carried('s')}b.*, to_jsonb(a)
  FROM ${sources.shadow} AS s CROSS JOIN LATERAL (SELECT ${backwardItems(shape)}) AS b CROSS JOIN LATERAL (SELECT ${actual}${shadowBack}) AS a`
}
