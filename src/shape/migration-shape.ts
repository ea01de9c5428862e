/** Everything the DAL's statements need to know about one migration, computed once from the catalog. */
import type { MigrationDefinition } from '../core/definition.js'
import { quoteIdent, quoteQualified } from '../core/identifiers.js'
import type { MappedColumn } from '../core/mapping.js'
import type { CheckedMigration } from '../store/catalog/check-against-catalog.js'

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
}

export function migrationShape(checked: CheckedMigration): MigrationShape {
  const columns = (info: CheckedMigration['legacy']): ColumnType[] =>
    [...info.columns.values()].map((c) => ({ name: c.name, type: c.type, defaultSql: c.defaultSql, isGenerated: c.isGenerated }))
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
