/**
 * SQL for the comparable projection of a row in the shadow's shape: each
 * mapped shadow column cast to its type, normalised, and turned to text (JSON
 * columns stay JSON, so key order and `1.0` vs `1` never differ). The same text
 * serves read comparison and verify, so both judge equality the same way.
 */
import { quoteIdent } from './identifiers.js'
import { normaliserSql } from './normalisers.js'

export interface ComparableColumn {
  readonly column: string
  readonly type: string
}

function asComparable(expression: string, column: ComparableColumn, normaliser: string | undefined): string {
  const typed = `(${expression})::${column.type}`
  const normalised = normaliser ? normaliserSql(normaliser, typed) : typed
  if (/^jsonb?$/.test(column.type)) return `to_jsonb(${normalised})`
  // -0 = 0 in SQL, but their text differs; compare floats as SQL does.
  if (/^(double precision|real)$/.test(column.type)) return `(CASE WHEN (${normalised}) = 0 THEN '0' ELSE (${normalised})::text END)`
  return `(${normalised})::text`
}

/** `expr AS "col"` items of the expected projection: forward expressions over legacy columns. */
export function expectedItems(columns: readonly (ComparableColumn & { expression: string })[], compare: Readonly<Record<string, string>>): string {
  return columns.map((c) => `${asComparable(c.expression, c, compare[c.column])} AS ${quoteIdent(c.column)}`).join(', ')
}

/** `expr AS "col"` items of the actual projection: the shadow row's own columns, qualified by `alias`. */
export function actualItems(columns: readonly ComparableColumn[], compare: Readonly<Record<string, string>>, alias: string): string {
  return columns.map((c) => `${asComparable(`${alias}.${quoteIdent(c.column)}`, c, compare[c.column])} AS ${quoteIdent(c.column)}`).join(', ')
}
