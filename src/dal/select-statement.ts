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
import { settingsCondition } from '../shape/settings-condition.js'

/** Builds the caller's query from a `selectFrom` on the source. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type
export type SelectBuilder<R> = (from: SelectQueryBuilder<any, any, {}>) => Compilable<R>

const sources = new WeakMap<MigrationShape, Record<Side, string>>()

/** The derived table standing for the legacy table on `side`, built once per shape. */
export function sourceSql(shape: MigrationShape, side: Side): string {
  let built = sources.get(shape)
  if (!built) {
    // The migration's session settings gate the shadow's scan (shape/settings-condition.ts), so backward runs under them.
    const settings = settingsCondition(shape)
    built = {
      legacy: `(SELECT * FROM ${shape.legacyTable})`,
      shadow: `(SELECT ${backwardItems(shape)} FROM ${shape.shadowTable} AS s${settings === '' ? '' : ` WHERE true${settings}`})`,
    }
    sources.set(shape, built)
  }
  return built[side]
}

export function selectStatement<R>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  kysely: Kysely<any>,
  shape: MigrationShape,
  side: Side,
  build: SelectBuilder<R>,
): Statement {
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
function selectComparable(shapes: readonly MigrationShape[]): string {
  const normalised = shapes.flatMap((shape) =>
    [
      ...plainColumnMap(
        shape.backward,
        shape.shadowColumns.map((c) => c.name),
      ),
    ].flatMap(([shadowColumn, legacyColumn]) => {
      const spec = shape.definition.compare[shadowColumn]
      const type = shape.legacyColumns.find((c) => c.name === legacyColumn)?.type
      if (spec === undefined || type === undefined) return []
      const name = literal(legacyColumn)
      return [
        `CASE WHEN r.j ? ${name} THEN jsonb_build_object(${name}, ${normaliserSql(spec, `(r.j ->> ${name})::${type}`)}) ELSE '{}' END`,
      ]
    }),
  )
  return `(${['r.j', ...normalised].join(' || ')})`
}

/** A select compiled for one side (every table it reads on that side). */
export type CompileSide = (side: Side) => Statement

/** The select compiled for each side, the shadow's parameters numbered after legacy's. */
function bothSides(compile: CompileSide): { legacy: string; shadow: string; values: unknown[] } {
  const legacy = compile('legacy')
  const shadow = compile('shadow')
  const offset = legacy.values.length
  // Kysely never inlines values, so every `$n` in its SQL is a parameter.
  const shifted = shadow.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)
  return { legacy: legacy.text, shadow: shifted, values: [...legacy.values, ...shadow.values] }
}

/** CTEs `lq`, `sq` (each side's result) and the verdict: equal multisets of comparable jsonb ({@link selectComparable}). */
function selectEqualParts(
  shapes: readonly MigrationShape[],
  sides: { legacy: string; shadow: string },
): { ctes: string; equal: string } {
  const sorted = (cte: string): string =>
    `(SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM (SELECT ${selectComparable(shapes)} AS c FROM ${cte} AS q CROSS JOIN LATERAL (SELECT to_jsonb(q) AS j) AS r) AS x)`
  return { ctes: `lq AS (${sides.legacy}), sq AS (${sides.shadow})`, equal: `${sorted('lq')} = ${sorted('sq')}` }
}

/**
 * The three compared forms of a select that reads the tables of `shapes`
 * (one migration's, or a group's joined), each side compiled by `compile`.
 */
export interface ComparedSelects {
  /** The background comparison: both sides' results in one snapshot, judged by PostgreSQL (the same multiset of comparable rows), one row `equal`. */
  equal(): Statement
  /** The inline compared select: both sides' rows tagged with their side, each carrying the verdict ({@link EQUAL_COLUMN}). */
  inline(): Statement
  /** Both sides' results in one round trip, each row tagged with its side and carrying its comparable text ({@link selectComparable}). */
  compared(): Statement
}

export function comparedSelects(compile: CompileSide, shapes: readonly MigrationShape[]): ComparedSelects {
  return {
    equal: () => {
      const sides = bothSides(compile)
      const parts = selectEqualParts(shapes, sides)
      return { text: `WITH ${parts.ctes} SELECT ${parts.equal} AS equal`, values: sides.values }
    },
    inline: () => {
      const sides = bothSides(compile)
      const parts = selectEqualParts(shapes, sides)
      const side = quoteIdent(SIDE_COLUMN)
      const eq = quoteIdent(EQUAL_COLUMN)
      return {
        text: `WITH ${parts.ctes}, eq AS (SELECT ${parts.equal} AS ${eq}) SELECT 'legacy' AS ${side}, q.*, eq.${eq} FROM lq AS q CROSS JOIN eq UNION ALL SELECT 'shadow' AS ${side}, q.*, eq.${eq} FROM sq AS q CROSS JOIN eq`,
        values: sides.values,
      }
    },
    compared: () => {
      const sides = bothSides(compile)
      const side = quoteIdent(SIDE_COLUMN)
      const comparable = `${selectComparable(shapes)}::text AS ${quoteIdent(COMPARE_COLUMN)}`
      const lateral = 'CROSS JOIN LATERAL (SELECT to_jsonb(q) AS j) AS r'
      return {
        text: `SELECT 'legacy' AS ${side}, q.*, ${comparable} FROM (${sides.legacy}) AS q ${lateral} UNION ALL SELECT 'shadow' AS ${side}, q.*, ${comparable} FROM (${sides.shadow}) AS q ${lateral}`,
        values: sides.values,
      }
    },
  }
}

/** One migration's caller-shaped select in its compared forms. */
export function migrationComparedSelects<R>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  kysely: Kysely<any>,
  shape: MigrationShape,
  build: SelectBuilder<R>,
): ComparedSelects {
  return comparedSelects((side) => selectStatement(kysely, shape, side, build), [shape])
}
