/**
 * Reads of any shape, written by the caller as a Kysely select over a source
 * that stands for the legacy table: the legacy table itself, or the shadow
 * seen through `backward` as a derived table under the legacy table's name.
 */
import { sql, type Compilable, type Kysely, type SelectQueryBuilder } from 'kysely'
import type { Side } from '../core/phases.js'
import { quoteIdent, quoteLiteral } from '../core/identifiers.js'
import { plainColumnMap } from '../core/mapping.js'
import { normaliserSql } from '../core/normalisers.js'
import type { Statement } from '../db/statement.js'
import type { MigrationShape } from '../shape/migration-shape.js'
import { EQUAL_COLUMN } from './read-statement.js'
import { backwardItems, COMPARE_COLUMN, SIDE_COLUMN } from '../shape/compared-sides.js'

/** Builds the caller's query from a `selectFrom` on the source. */
export type SelectBuilder<R> = (from: SelectQueryBuilder<any, any, {}>) => Compilable<R> // eslint-disable-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type

function sourceSql(shape: MigrationShape, side: Side): string {
  return side === 'legacy'
    ? `(SELECT * FROM ${shape.legacyTable})`
    : `(SELECT ${backwardItems(shape)} FROM ${shape.shadowTable} AS s)`
}

export function selectStatement<R>(kysely: Kysely<any>, shape: MigrationShape, side: Side, build: SelectBuilder<R>): Statement { // eslint-disable-line @typescript-eslint/no-explicit-any
  const alias = shape.definition.legacy.table.name
  const from = kysely.selectFrom(sql.raw(sourceSql(shape, side)).as(alias))
  const compiled = build(from).compile()
  return { text: compiled.sql, values: [...compiled.parameters] }
}

const literal = quoteLiteral

/**
 * The comparable text of a result row `q` (as `r.j`, its jsonb): PostgreSQL's
 * own rendering of every value (no JavaScript Date or double in between), with
 * a normaliser applied to each result column named like a legacy column that
 * the backward mapping copies unchanged from a shadow column: that shadow
 * column's `compare` normaliser. Other columns are compared as they are.
 */
function selectComparable(shape: MigrationShape): string {
  const fromShadow = plainColumnMap(shape.backward, shape.shadowColumns.map((c) => c.name))
  const normalised = [...fromShadow].flatMap(([shadowColumn, legacyColumn]) => {
    const spec = shape.definition.compare[shadowColumn]
    const type = shape.legacyColumns.find((c) => c.name === legacyColumn)?.type
    if (spec === undefined || type === undefined) return []
    const name = literal(legacyColumn)
    return [`CASE WHEN r.j ? ${name} THEN jsonb_build_object(${name}, ${normaliserSql(spec, `(r.j ->> ${name})::${type}`)}) ELSE '{}' END`]
  })
  return `(${['r.j', ...normalised].join(' || ')})`
}

/** The caller's select compiled for each side, the shadow's parameters numbered after legacy's. */
function bothSides<R>(kysely: Kysely<any>, shape: MigrationShape, build: SelectBuilder<R>): { legacy: string; shadow: string; values: unknown[] } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const legacy = selectStatement(kysely, shape, 'legacy', build)
  const shadow = selectStatement(kysely, shape, 'shadow', build)
  const offset = legacy.values.length
  // Kysely never inlines values, so every `$n` in its SQL is a parameter.
  const shifted = shadow.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)
  return { legacy: legacy.text, shadow: shifted, values: [...legacy.values, ...shadow.values] }
}

/** CTEs `lq`, `sq` (each side's result) and the verdict: equal multisets of comparable jsonb ({@link selectComparable}). */
function selectEqualParts(shape: MigrationShape, sides: { legacy: string; shadow: string }): { ctes: string; equal: string } {
  const sorted = (cte: string): string =>
    `(SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM (SELECT ${selectComparable(shape)} AS c FROM ${cte} AS q CROSS JOIN LATERAL (SELECT to_jsonb(q) AS j) AS r) AS x)`
  return { ctes: `lq AS (${sides.legacy}), sq AS (${sides.shadow})`, equal: `${sorted('lq')} = ${sorted('sq')}` }
}

/**
 * The background comparison of a select: both sides' results in one snapshot,
 * judged by PostgreSQL (the same multiset of comparable rows), one row `equal`.
 */
export function selectEqualStatement<R>(kysely: Kysely<any>, shape: MigrationShape, build: SelectBuilder<R>): Statement { // eslint-disable-line @typescript-eslint/no-explicit-any
  const sides = bothSides(kysely, shape, build)
  const parts = selectEqualParts(shape, sides)
  return { text: `WITH ${parts.ctes} SELECT ${parts.equal} AS equal`, values: sides.values }
}

/** The inline compared select: both sides' rows tagged with their side, each carrying the verdict ({@link EQUAL_COLUMN}). */
export function inlineComparedSelectStatement<R>(kysely: Kysely<any>, shape: MigrationShape, build: SelectBuilder<R>): Statement { // eslint-disable-line @typescript-eslint/no-explicit-any
  const sides = bothSides(kysely, shape, build)
  const parts = selectEqualParts(shape, sides)
  const side = quoteIdent(SIDE_COLUMN)
  const eq = quoteIdent(EQUAL_COLUMN)
  return {
    text: `WITH ${parts.ctes}, eq AS (SELECT ${parts.equal} AS ${eq}) SELECT 'legacy' AS ${side}, q.*, eq.${eq} FROM lq AS q CROSS JOIN eq UNION ALL SELECT 'shadow' AS ${side}, q.*, eq.${eq} FROM sq AS q CROSS JOIN eq`,
    values: sides.values,
  }
}

/**
 * Both sides' results in one round trip, each row tagged with its side and
 * carrying its comparable text ({@link selectComparable}).
 */
export function comparedSelectStatement<R>(kysely: Kysely<any>, shape: MigrationShape, build: SelectBuilder<R>): Statement { // eslint-disable-line @typescript-eslint/no-explicit-any
  const sides = bothSides(kysely, shape, build)
  const side = quoteIdent(SIDE_COLUMN)
  const comparable = `${selectComparable(shape)}::text AS ${quoteIdent(COMPARE_COLUMN)}`
  const lateral = 'CROSS JOIN LATERAL (SELECT to_jsonb(q) AS j) AS r'
  return {
    text: `SELECT 'legacy' AS ${side}, q.*, ${comparable} FROM (${sides.legacy}) AS q ${lateral} UNION ALL SELECT 'shadow' AS ${side}, q.*, ${comparable} FROM (${sides.shadow}) AS q ${lateral}`,
    values: sides.values,
  }
}
