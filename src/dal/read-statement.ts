/**
 * Builds key reads: from legacy, from the shadow in the legacy shape (through
 * `backward`), or both at once in one statement for comparison, each side with
 * its comparable projection (see core/compare-sql.ts).
 */
import { verifyColumns } from '../core/compare-sql.js'
import { backwardItems, comparedSides, SIDE_COLUMN } from '../shape/compared-sides.js'
import { readBackColumns } from '../shape/read-back-columns.js'
import { settingsCondition } from '../shape/settings-condition.js'
import { q, typeOf, type MigrationShape } from '../shape/migration-shape.js'
import type { Statement } from '../db/statement.js'

/**
 * `query` under the migration's session settings (shape/settings-condition.ts): wrapped, so the one-time filter
 * gates the whole of it before any mapping expression in it runs. Unchanged for a definition without settings.
 */
function withSettings(shape: MigrationShape, query: string): string {
  const condition = settingsCondition(shape)
  return condition === '' ? query : `SELECT * FROM (${query}) AS r WHERE true${condition}`
}

function keyParams(shape: MigrationShape, key: readonly unknown[]): { values: unknown[]; keyRow: string } {
  const keyRow = shape.legacyKey.map((k, i) => `$${i + 1}::${typeOf(shape.legacyColumns, k)} AS ${q(k)}`).join(', ')
  return { values: [...key], keyRow }
}

function legacyWhere(shape: MigrationShape, alias?: string): string {
  const prefix = alias === undefined ? '' : `${alias}.`
  return shape.legacyKey.map((k) => `${prefix}${q(k)} = (SELECT ${q(k)} FROM p)`).join(' AND ')
}

function shadowWhere(shape: MigrationShape, alias?: string): string {
  const exprs = shape.shadowKey.map((k) => shape.forward.find((m) => m.column === k)?.expression ?? q(k)).join(', ')
  return `(${shape.shadowKey.map((k) => (alias === undefined ? q(k) : `${alias}.${q(k)}`)).join(', ')}) = (SELECT ${exprs} FROM p)`
}

export function legacyRead(shape: MigrationShape, key: readonly unknown[]): Statement {
  const { values, keyRow } = keyParams(shape, key)
  return { text: `WITH p AS (SELECT ${keyRow}) SELECT * FROM ${shape.legacyTable} WHERE ${legacyWhere(shape)}`, values }
}

export function shadowRead(shape: MigrationShape, key: readonly unknown[]): Statement {
  const { values, keyRow } = keyParams(shape, key)
  return {
    text: `WITH p AS (SELECT ${keyRow}) SELECT ${backwardItems(shape)} FROM ${shape.shadowTable} WHERE ${shadowWhere(shape)}${settingsCondition(shape)}`,
    values,
  }
}

/**
 * Both sides of one key in one round trip: up to two rows, each in the legacy
 * shape, tagged with its side and carrying its comparable projection.
 */
export function comparedRead(shape: MigrationShape, key: readonly unknown[]): Statement {
  const { values, keyRow } = keyParams(shape, key)
  const text = `WITH p AS (SELECT ${keyRow}),
l AS (SELECT * FROM ${shape.legacyTable} WHERE ${legacyWhere(shape)}),
s AS (SELECT * FROM ${shape.shadowTable} WHERE ${shadowWhere(shape)})
${withSettings(shape, comparedSides(shape, { legacy: 'l', shadow: 's', readBack: true }))}`
  return { text, values }
}

/** The column the inline compared read carries its equal flag in. */
export const EQUAL_COLUMN = '__cutover_eq'

/**
 * CTEs `l` and `s` of one key's normalised comparable values on each side (as
 * verify compares them), from the legacy rows of FROM item `legacy` (aliased `lt`) and the
 * shadow rows of FROM item `shadow` (aliased `st`), each narrowed by its `where`,
 * and the SQL of their verdict: true when both are missing or both present
 * and equal (`ROW(...) IS NOT DISTINCT FROM ROW(...)`, core/compare-sql.ts), in the
 * shadow's shape (forward of the legacy row against the shadow row) and in the
 * legacy shape (the legacy row against the shadow row read back through `backward`).
 */
function equalParts(
  shape: MigrationShape,
  legacy: string,
  legacyFilter: string,
  shadow: string,
  shadowFilter: string,
): { ctes: string; equal: string } {
  const columns = verifyColumns(
    shape.forward.map((m) => ({
      column: m.column,
      type: typeOf(shape.shadowColumns, m.column),
      expression: m.expression,
    })),
    shape.definition.compare,
  )
  const back = readBackColumns(shape)
  const alias = (i: number): string => q(`__v${i}`)
  const backAlias = (i: number): string => q(`__b${i}`)
  const row = (side: 'l' | 's'): string =>
    `ROW(${[...columns.map((c, i) => c.key(`${side}.${alias(i)}`)), ...back.map((c, i) => c.sql.key(`${side}.${backAlias(i)}`))].join(', ')})`
  return {
    ctes: `l AS (SELECT ${[...columns.map((c, i) => `${c.expected} AS ${alias(i)}`), ...back.map((c, i) => `${c.sql.normalise(`lt.${q(c.column)}`)} AS ${backAlias(i)}`)].join(', ')} FROM ${legacy} AS lt WHERE ${legacyFilter}),
s AS (SELECT ${[...columns.map((c, i) => `${c.actual('st')} AS ${alias(i)}`), ...back.map((c, i) => `${c.sql.normalise(`b.${q(c.column)}`)} AS ${backAlias(i)}`)].join(', ')} FROM ${shadow} AS st CROSS JOIN LATERAL (SELECT ${backwardItems(shape)}) AS b WHERE ${shadowFilter})`,
    equal: `CASE WHEN NOT EXISTS (SELECT FROM l) THEN NOT EXISTS (SELECT FROM s)
  ELSE coalesce((SELECT NOT (${row('l')} IS DISTINCT FROM ${row('s')}) FROM l, s), false) END`,
  }
}

/**
 * The background comparison of one key: both sides read in one snapshot, and
 * one row whose `equal` PostgreSQL computed over the comparable projections.
 * Nothing is hashed or sent back unless they differ ({@link comparedRead} then).
 */
export function keyEqualText(shape: MigrationShape): string {
  const { keyRow } = keyParams(shape, [])
  const parts = equalParts(
    shape,
    shape.legacyTable,
    legacyWhere(shape, 'lt'),
    shape.shadowTable,
    shadowWhere(shape, 'st'),
  )
  return `WITH p AS (SELECT ${keyRow}),
${parts.ctes}
SELECT ${parts.equal} AS equal${settingsCondition(shape) === '' ? '' : ` WHERE true${settingsCondition(shape)}`}`
}

/**
 * The inline compared read of one key: each side's row in the legacy shape,
 * tagged with its side ({@link SIDE_COLUMN}), and on every row the verdict
 * PostgreSQL computed ({@link EQUAL_COLUMN}); no row when neither side has the key.
 */
export function inlineComparedReadText(shape: MigrationShape): string {
  const { keyRow } = keyParams(shape, [])
  const parts = equalParts(shape, 'lr', 'true', 'sr', 'true')
  return `WITH p AS (SELECT ${keyRow}),
lr AS (SELECT * FROM ${shape.legacyTable} WHERE ${legacyWhere(shape)}),
sr AS (SELECT * FROM ${shape.shadowTable} WHERE ${shadowWhere(shape)}),
${parts.ctes},
eq AS (SELECT ${parts.equal} AS ${q(EQUAL_COLUMN)})
${withSettings(
  shape,
  `SELECT 'legacy' AS ${q(SIDE_COLUMN)}, lr.*, eq.${q(EQUAL_COLUMN)} FROM lr CROSS JOIN eq
UNION ALL
SELECT 'shadow', b.*, eq.${q(EQUAL_COLUMN)} FROM sr AS s CROSS JOIN LATERAL (SELECT ${backwardItems(shape)}) AS b CROSS JOIN eq`,
)}`
}
