/** The SQL of `cutover precheck`: the mapping of a set of keys tried in cutover.precheck_mapping_rows(), and the listing and collision queries of its report. */
import { quoteLiteral } from '../../core/identifiers.js'
import type { FailureClass } from '../../core/precheck-classes.js'
import { controlSchema } from '../../db/control-schema.js'
import type { Statement } from '../../db/statement.js'
import { backwardItems } from '../../shape/compared-sides.js'
import { readBackColumns } from '../../shape/read-back-columns.js'
import { list, q, typeOf, type MigrationShape } from '../../shape/migration-shape.js'
import type { KeyRange } from '../chunks/key-range.js'
import { keyTypes, legacySide, rangePredicate, rangeValues } from '../chunks/key-range-sql.js'

/** Where the backward mapping writes: a temporary copy of the legacy table's columns, NOT NULL and CHECK constraints. */
const LEGACY_COPY = 'pg_temp.cutover_precheck_legacy'

export interface PrecheckSql {
  /** `rows` (the range's row count) with, per failing key, key (text array), step, sqlstate, message, pattern, column_name, constraint_name; one row with a null key when none fails. */
  chunk(range: KeyRange): Statement
  /** A query that lists every failing key of the whole table with its error; a class's listing adds its WHERE. */
  readonly listing: string
  /**
   * One query per unique key of the shadow whose columns are all mapped: the mapped values two or more
   * legacy rows share (`value`, `count`, `keys`: up to `examples` legacy keys). Only meaningful once every row maps.
   */
  collisions(examples: number): readonly { readonly columns: readonly string[]; readonly statement: Statement }[]
}

function keyArray(shape: MigrationShape): string {
  return `jsonb_build_array(${legacySide(shape)
    .refs.map((r) => `${r}::text`)
    .join(', ')})`
}

/**
 * The texts precheck_mapping_rows() runs. `forward` is the backfill's insert for the keys in $1 (a jsonb array of keys);
 * `backward` maps the shadow rows of those keys back into the legacy copy, so the legacy column types, NOT NULL and
 * CHECK constraints judge it without the legacy table being written. The `One` texts do the same for one key ($1,
 * an array of text), found by key equality through the index.
 */
function mappingTexts(
  shape: MigrationShape,
  parents: (picked: string) => string,
): { setup: string; forward: string; backward: string; forwardOne: string; backwardOne: string; roundTrip: string } {
  const types = keyTypes(shape)
  const legacy = legacySide(shape)
  const inSet = `(${legacy.refs.join(', ')}) IN (SELECT ${types.map((t, i) => `(cutover_key ->> ${i})::${t}`).join(', ')} FROM jsonb_array_elements($1::jsonb) AS cutover_key)`
  const isOne = `(${legacy.refs.join(', ')}) = (${types.map((t, i) => `($1::jsonb ->> ${i})::${t}`).join(', ')})`
  const forwardKey = shape.shadowKey.map((k) => {
    const expression = shape.forward.find((m) => m.column === k)?.expression ?? q(k)
    return `(${expression})::${typeOf(shape.shadowColumns, k)}`
  })
  const forward = (picked: string): string =>
    `${parents(picked)}INSERT INTO ${shape.shadowTable} (${list(shape.forward.map((m) => m.column))})${shape.overriding.shadow} ` +
    `SELECT ${shape.forward.map((m) => m.expression).join(', ')} FROM ${legacy.from} WHERE ${picked} ` +
    `ON CONFLICT (${list(shape.shadowConflictKey)}) DO NOTHING`
  // Driven by the picked keys, each shadow row found through the shadow key's unique index: the plan must not
  // depend on the shadow's statistics, which say "no row in these pages" once autovacuum has analysed the trials'
  // rolled-back rows (an `IN (SELECT …)` was then planned as a nested loop over the whole shadow for every key:
  // minutes for 20,000 keys). `OFFSET 0` keeps the lookup a subquery the planner cannot flatten into a join it
  // would reorder, so it runs once per picked key, through the index.
  const keyAliases = shape.shadowKey.map((_, i) => q(`cutover_k${i}`))
  const backward = (picked: string): string =>
    `INSERT INTO ${LEGACY_COPY} (${list(shape.backward.map((m) => m.column))}) ` +
    `SELECT ${shape.backward.map((m) => m.expression).join(', ')} ` +
    `FROM (SELECT DISTINCT ${forwardKey.map((k, i) => `${k} AS ${keyAliases[i]}`).join(', ')} FROM ${legacy.from} WHERE ${picked}) AS cutover_keys ` +
    `JOIN LATERAL (SELECT * FROM ${shape.shadowTable} AS st WHERE ${shape.shadowKey.map((k, i) => `st.${q(k)} = cutover_keys.${keyAliases[i]}`).join(' AND ')} OFFSET 0) AS st ON true`
  return {
    setup: `CREATE TEMPORARY TABLE cutover_precheck_legacy (LIKE ${shape.legacyTable} INCLUDING CONSTRAINTS INCLUDING GENERATED)`,
    forward: forward(inSet),
    backward: backward(inSet),
    forwardOne: forward(isOne),
    backwardOne: backward(isOne),
    roundTrip: roundTripText(shape, inSet, forwardKey),
  }
}

/** The pattern of a round-trip class: what every row of it has in common. */
export const ROUND_TRIP_PATTERN =
  'the value the application reads back, backward(forward(row)), differs from the one it wrote'

/**
 * The round trip of the keys in $1 (a jsonb array of keys), once their rows are in the shadow: for each legacy row,
 * the shadow row of its forward key read back through `backward` as the DAL serves it, compared with the legacy row
 * per legacy column (generated ones excepted) through the `compare` normaliser of the shadow column that `backward`
 * copies unchanged into it. One jsonb array of differences: key, step, column, both values as text. The shadow row
 * is looked up per legacy row behind `OFFSET 0`, as in `backward` (mappingTexts), whatever the shadow's statistics say.
 */
function roundTripText(shape: MigrationShape, inSet: string, forwardKey: readonly string[]): string {
  const compared = readBackColumns(shape).map(({ column, sql }) => {
    const differs = `${sql.key(sql.normalise(`lt.${q(column)}`))} IS DISTINCT FROM ${sql.key(sql.normalise(`rt.${q(column)}`))}`
    return `(${quoteLiteral(column)}, ${differs}, lt.${q(column)}::text, rt.${q(column)}::text)`
  })
  const keyAliases = forwardKey.map((_, i) => q(`cutover_k${i}`))
  const message = `pg_catalog.format('%s: %s comes back from the shadow as %s', d.column_name, pg_catalog.quote_nullable(d.legacy_value), pg_catalog.quote_nullable(d.round_trip_value))`
  return (
    `SELECT coalesce(jsonb_agg(jsonb_build_object('key', ${keyArray(shape)}, 'step', 'round_trip', 'sqlstate', '', 'message', ${message}, ` +
    `'pattern', ${quoteLiteral(ROUND_TRIP_PATTERN)}, 'column', d.column_name, 'legacy', d.legacy_value, 'round_trip', d.round_trip_value) ` +
    `ORDER BY ${legacySide(shape).refs.join(', ')}, d.column_name), '[]') ` +
    `FROM ${legacySide(shape).from} CROSS JOIN LATERAL (SELECT ${forwardKey.map((k, i) => `${k} AS ${keyAliases[i]}`).join(', ')}) AS fk ` +
    `JOIN LATERAL (SELECT b.* FROM ${shape.shadowTable} AS st CROSS JOIN LATERAL (SELECT ${backwardItems(shape)}) AS b ` +
    `WHERE ${shape.shadowKey.map((k, i) => `st.${q(k)} = fk.${keyAliases[i]}`).join(' AND ')} OFFSET 0) AS rt ON true ` +
    `CROSS JOIN LATERAL (VALUES ${compared.join(', ')}) AS d (column_name, differs, legacy_value, round_trip_value) ` +
    `WHERE ${inSet} AND d.differs`
  )
}

/**
 * `parents` gives, for a predicate picking the checked legacy rows, what to run before their insert in the same
 * statement (precheck-parents-sql.ts: the referenced rows of the other members of a group); '' for none.
 */
export function precheckSql(
  shape: MigrationShape,
  schema: string,
  shadowUniqueKeys: readonly (readonly string[])[],
  parents: (picked: string) => string = () => '',
): PrecheckSql {
  const types = keyTypes(shape)
  const legacy = legacySide(shape)
  const texts = mappingTexts(shape, parents)
  const call = (keys: string): string =>
    `SELECT f.key, f.step, f.sqlstate, f.message, f.pattern, f.column_name, f.constraint_name, f.table_name, f.legacy_value, f.round_trip_value ` +
    `FROM ${controlSchema(schema).quoted}.precheck_mapping_rows(${quoteLiteral(texts.setup)}, ${quoteLiteral(texts.forward)}, ${quoteLiteral(texts.backward)}, ` +
    `${quoteLiteral(texts.forwardOne)}, ${quoteLiteral(texts.backwardOne)}, ${quoteLiteral(texts.roundTrip)}, ${keys}) AS f`
  // One row per failing key, and one row (key null) for a clean chunk: `rows` is the chunk's row count either way.
  const chunkText = (isLowerInclusive: boolean): string =>
    `WITH picked AS (SELECT coalesce(jsonb_agg(${keyArray(shape)}), '[]') AS keys FROM ${legacy.from} WHERE ${rangePredicate(legacy.refs, types, isLowerInclusive)}) ` +
    `SELECT jsonb_array_length(p.keys) AS rows, f.* FROM picked AS p LEFT JOIN LATERAL (${call('p.keys')}) AS f ON true`
  const chunkTexts = { inclusive: chunkText(true), exclusive: chunkText(false) }
  const mapped = new Map(shape.forward.map((m) => [m.column, m.expression]))
  return {
    chunk: (range) => ({
      text: range.isLowerInclusive ? chunkTexts.inclusive : chunkTexts.exclusive,
      values: rangeValues(range),
    }),
    listing: call(
      `(SELECT coalesce(jsonb_agg(${keyArray(shape)} ORDER BY ${legacy.refs.join(', ')}), '[]') FROM ${legacy.from})`,
    ),
    collisions: (examples) =>
      shadowUniqueKeys
        .filter((columns) => columns.every((c) => mapped.has(c)))
        .map((columns) => {
          const values = columns.map((c) => `(${mapped.get(c) as string})::${typeOf(shape.shadowColumns, c)}`)
          return {
            columns,
            statement: {
              text:
                `SELECT ${columns.length === 1 ? `${values[0]}::text` : `ROW(${values.join(', ')})::text`} AS value, count(*)::int AS count, ` +
                `(array_agg(${keyArray(shape)} ORDER BY ${legacy.refs.join(', ')}))[1:$1] AS keys ` +
                `FROM ${legacy.from} GROUP BY ${values.join(', ')} HAVING count(*) > 1 ORDER BY count(*) DESC, 1`,
              values: [examples],
            },
          }
        }),
  }
}

/** The listing narrowed to one class: every key that fails that way, with PostgreSQL's message. */
export function classQuery(
  listing: string,
  c: Pick<FailureClass, 'kind' | 'sqlstate' | 'column' | 'constraint' | 'pattern'>,
): string {
  const same = (column: string, value: string | null): string =>
    value === null ? `f.${column} IS NULL` : `f.${column} = ${quoteLiteral(value)}`
  return (
    `${listing} WHERE f.step = ${quoteLiteral(c.kind)} AND f.sqlstate = ${quoteLiteral(c.sqlstate)} AND ${same('column_name', c.column)} ` +
    `AND ${same('constraint_name', c.constraint)} AND f.pattern = ${quoteLiteral(c.pattern)}`
  )
}
