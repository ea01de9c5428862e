/**
 * Reads of any shape, written by the caller as a Kysely select over a source
 * that stands for the legacy table: the legacy table itself, or the shadow
 * seen through `backward` as a derived table under the legacy table's name.
 */
import { sql, type Compilable, type Kysely, type SelectQueryBuilder } from 'kysely'
import type { Side } from '../core/phases.js'
import { quoteIdent } from '../core/identifiers.js'
import type { Statement } from './dual-write-statement.js'
import type { MigrationShape } from './migration-shape.js'
import { backwardItems, SIDE_COLUMN } from './read-statement.js'

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

/** Both sides' results in one round trip, each row tagged with its side. */
export function comparedSelectStatement<R>(kysely: Kysely<any>, shape: MigrationShape, build: SelectBuilder<R>): Statement { // eslint-disable-line @typescript-eslint/no-explicit-any
  const legacy = selectStatement(kysely, shape, 'legacy', build)
  const shadow = selectStatement(kysely, shape, 'shadow', build)
  const offset = legacy.values.length
  // Kysely never inlines values, so every `$n` in its SQL is a parameter.
  const shifted = shadow.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)
  const side = quoteIdent(SIDE_COLUMN)
  return {
    text: `SELECT 'legacy' AS ${side}, q.* FROM (${legacy.text}) AS q UNION ALL SELECT 'shadow' AS ${side}, q.* FROM (${shifted}) AS q`,
    values: [...legacy.values, ...shadow.values],
  }
}
