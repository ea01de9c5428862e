/** Everything the DAL's statements need to know about one migration, computed once from the catalog. */
import type { MigrationDefinition } from '../core/definition.js'
import { quoteIdent, quoteQualified } from '../core/identifiers.js'
import { plainColumnMap, type MappedColumn } from '../core/mapping.js'
import { quoteLiteral } from '../core/identifiers.js'
import type { CheckedMigration } from '../core/checked-migration.js'
import { conflictKeyOf } from '../core/table-info.js'

export interface ColumnType {
  readonly name: string
  readonly type: string
  readonly defaultSql: string | null
  readonly isGenerated: boolean
}

export interface MigrationShape {
  readonly definition: MigrationDefinition
  readonly legacyTable: string
  readonly shadowTable: string
  readonly legacyColumns: readonly ColumnType[]
  readonly shadowColumns: readonly ColumnType[]
  readonly forward: readonly MappedColumn[]
  readonly backward: readonly MappedColumn[]
  readonly legacyKey: readonly string[]
  readonly shadowKey: readonly string[]
  /**
   * Where a legacy column left out of a write gets its value on the way into the shadow when it is not the legacy
   * default: the `nextval` of the shadow column's own sequence (identity or serial), the shadow's key source.
   */
  readonly shadowDefaults: ReadonlyMap<string, string>
  /**
   * The shadow's unique key that its upserts name in ON CONFLICT: the logical key, or for a partitioned shadow the
   * logical key and the partition columns its unique key adds (then a row is still found by the logical key alone).
   */
  readonly shadowConflictKey: readonly string[]
  /** ` OVERRIDING SYSTEM VALUE` for an INSERT that writes a GENERATED ALWAYS identity column of that side, else ''. */
  readonly overriding: { readonly legacy: string; readonly shadow: string }
}

const OVERRIDING = ' OVERRIDING SYSTEM VALUE'

function overridingOf(info: CheckedMigration['legacy'], mapped: readonly MappedColumn[]): string {
  return mapped.some((m) => info.columns.get(m.column)?.identity === 'a') ? OVERRIDING : ''
}

/** Legacy column → `nextval` of the sequence of the shadow column it is copied to as a plain column. */
function shadowDefaultsOf(checked: CheckedMigration): Map<string, string> {
  const defaults = new Map<string, string>()
  for (const [legacyColumn, shadowColumn] of plainColumnMap(checked.mapping.forward, [
    ...checked.legacy.columns.keys(),
  ])) {
    const sequence = checked.shadow.columns.get(shadowColumn)?.sequence
    if (sequence) defaults.set(legacyColumn, `nextval(${quoteLiteral(sequence)}::regclass)`)
  }
  return defaults
}

export function migrationShape(checked: CheckedMigration): MigrationShape {
  const columns = (info: CheckedMigration['legacy']): ColumnType[] =>
    [...info.columns.values()].map((c) => ({
      name: c.name,
      type: c.type,
      defaultSql: c.defaultSql,
      isGenerated: c.isGenerated,
    }))
  return {
    definition: checked.definition,
    legacyTable: quoteQualified(checked.retiredLegacyTable ?? checked.definition.legacy.table),
    shadowTable: quoteQualified(checked.definition.shadow.table),
    legacyColumns: columns(checked.legacy),
    shadowColumns: columns(checked.shadow),
    forward: checked.mapping.forward,
    backward: checked.mapping.backward,
    legacyKey: checked.definition.legacy.key,
    shadowKey: checked.definition.shadow.key,
    shadowDefaults: shadowDefaultsOf(checked),
    shadowConflictKey: conflictKeyOf(checked.shadow, checked.definition.shadow.key) ?? checked.definition.shadow.key,
    overriding: {
      legacy: overridingOf(checked.legacy, checked.mapping.backward),
      shadow: overridingOf(checked.shadow, checked.mapping.forward),
    },
  }
}

const legacyNames = new WeakMap<MigrationShape, ReadonlySet<string>>()

/** The legacy table's column names as a set, built once per shape (the DAL checks every written row against it). */
export function legacyColumnNames(shape: MigrationShape): ReadonlySet<string> {
  let names = legacyNames.get(shape)
  if (!names) {
    names = new Set(shape.legacyColumns.map((c) => c.name))
    legacyNames.set(shape, names)
  }
  return names
}

export function typeOf(columns: readonly ColumnType[], name: string): string {
  const column = columns.find((c) => c.name === name)
  if (!column) throw new Error(`no column ${name}`)
  return column.type
}

export const q = quoteIdent
export const list = (names: readonly string[]): string => names.map(quoteIdent).join(', ')

/**
 * For a shadow whose conflict key adds partition columns: a DELETE of the shadow row with the same logical key in
 * another partition than the one the rows of `source` (legacy-shaped, under their legacy column names) map to, so
 * that the upsert after it moves the row instead of adding a second one. '' for any other shadow.
 */
export function movedRowDelete(shape: MigrationShape, source: string): string {
  const extra = shape.shadowConflictKey.filter((c) => !shape.shadowKey.includes(c))
  if (extra.length === 0) return ''
  const expression = (c: string): string => shape.forward.find((m) => m.column === c)?.expression ?? quoteIdent(c)
  const all = [...shape.shadowKey, ...extra]
  const aliases = all.map((_, i) => quoteIdent(`cutover_n${i}`))
  const keyMatch = shape.shadowKey.map((c, i) => `t.${quoteIdent(c)} = n.${aliases[i]}`).join(' AND ')
  const moved = `(${extra.map((c) => `t.${quoteIdent(c)}`).join(', ')}) IS DISTINCT FROM (${extra.map((_, i) => `n.${aliases[shape.shadowKey.length + i]}`).join(', ')})`
  return `DELETE FROM ${shape.shadowTable} AS t WHERE EXISTS (SELECT 1 FROM (SELECT ${all.map((c, i) => `(${expression(c)})::${typeOf(shape.shadowColumns, c)} AS ${aliases[i]}`).join(', ')} FROM ${source}) AS n WHERE ${keyMatch} AND ${moved})`
}

/**
 * For a shadow whose conflict key adds partition columns: `CROSS JOIN LATERAL` a call of the control schema's
 * `delete_moved_by_key` (sql/0012) for each row of the copy's source, whose fresh snapshot also sees a row a
 * backfill committed while the statement waited. '' for any other shadow.
 */
export function movedRowLateral(shape: MigrationShape, controlSchema: string): string {
  const extra = shape.shadowConflictKey.filter((c) => !shape.shadowKey.includes(c))
  if (extra.length === 0) return ''
  const expression = (c: string): string =>
    `(${shape.forward.find((m) => m.column === c)?.expression ?? quoteIdent(c)})::text`
  const array = (items: readonly string[]): string => `ARRAY[${items.join(', ')}]`
  const literals = (items: readonly string[]): string => `${array(items.map(quoteLiteral))}::text[]`
  const types = (columns: readonly string[]): string =>
    `${array(columns.map((c) => quoteLiteral(typeOf(shape.shadowColumns, c))))}::regtype[]`
  return (
    ` CROSS JOIN LATERAL (SELECT ${quoteIdent(controlSchema)}.delete_moved_by_key(${quoteLiteral(shape.shadowTable)}::regclass, ` +
    `${literals(shape.shadowKey)}, ${types(shape.shadowKey)}, ${array(shape.shadowKey.map(expression))}, ` +
    `${literals(extra)}, ${types(extra)}, ${array(extra.map(expression))}) AS cutover_moved_rows) AS cutover_moved`
  )
}
