/**
 * A select over several tables of one group as a read plan: every member the
 * caller names is read from the same side (the legacy tables, or every shadow
 * through its `backward`), never a mix, and a compared read compares the whole
 * joined result.
 */
import { sql, type AliasedRawBuilder, type Compilable, type Kysely, type SelectQueryBuilder } from 'kysely'
import { canonicalJsonNumbers } from '../core/json-text.js'
import { ConfigInvalid } from '../core/errors.js'
import type { Side } from '../core/phases.js'
import type { Logger } from '../logger.js'
import type { MigrationShape } from '../shape/migration-shape.js'
import { COMPARE_COLUMN, SIDE_COLUMN } from '../shape/compared-sides.js'
import type { ReadPlan, Row } from './read-pipeline.js'
import { comparedSelects, sourceSql } from './select-statement.js'

/** The tables of a group as one side serves them; each is aliased as its legacy table's name. */
export interface GroupTables {
  /** `selectFrom` on member `migration`'s table. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  from(migration: string): SelectQueryBuilder<any, any, any>
  /** Member `migration`'s table, to join (`innerJoin(t.table('flows_v2'), …)`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  table(migration: string): AliasedRawBuilder<any, string>
}

/** Builds the caller's query over the group's tables. */
export type GroupSelectBuilder<R> = (tables: GroupTables) => Compilable<R>

function tablesOn(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  kysely: Kysely<any>,
  group: string,
  shapes: ReadonlyMap<string, MigrationShape>,
  side: Side,
  used: Set<MigrationShape>,
): GroupTables {
  const table = (migration: string) => {
    const shape = shapes.get(migration)
    if (!shape)
      throw new ConfigInvalid(
        migration,
        `is not a member of group "${group}"; a group select reads only its members (${[...shapes.keys()].join(', ')})`,
      )
    used.add(shape)
    return sql.raw(sourceSql(shape, side)).as(shape.definition.legacy.table.name)
  }
  return { table, from: (migration) => kysely.selectFrom(table(migration)) }
}

export function groupSelectPlan<R>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  kysely: Kysely<any>,
  group: string,
  shapes: ReadonlyMap<string, MigrationShape>,
  build: GroupSelectBuilder<R>,
  logger: Logger,
): ReadPlan<R[]> {
  const used = new Set<MigrationShape>()
  const compile = (side: Side) => {
    const compiled = build(tablesOn(kysely, group, shapes, side, used)).compile()
    return { text: compiled.sql, values: [...compiled.parameters] }
  }
  const compared = () => comparedSelects(compile, [...(used.size > 0 ? used : shapes.values())])
  return {
    read: compile,
    equal: () => compared().equal(),
    inline: () => compared().inline(),
    result: (rows) => rows as R[],
    // A joined row has no one key of one member: the two sides' results are compared as multisets and a difference is logged and counted, not stored per key.
    record: async (executor) => {
      const statement = compared().compared()
      const rows = await executor.query<Row>(statement.text, statement.values)
      const sides: Record<Side, string[]> = { legacy: [], shadow: [] }
      for (const row of rows)
        sides[row[SIDE_COLUMN] === 'shadow' ? 'shadow' : 'legacy'].push(
          canonicalJsonNumbers(String(row[COMPARE_COLUMN])),
        )
      const differs = sides.legacy.sort().join('\n') !== sides.shadow.sort().join('\n')
      if (differs)
        logger.warn(
          { group, legacyRows: sides.legacy.length, shadowRows: sides.shadow.length },
          'a group select returned different results on the two sides',
        )
      return differs
    },
  }
}
