/** Checks one migration definition against the live catalog: both tables, their keys, and every mapped expression compiled. */
import type pg from 'pg'
import type { MigrationDefinition } from '../../core/definition.js'
import { ConfigInvalid } from '../../core/errors.js'
import { displayName, quoteIdent, quoteQualified } from '../../core/identifiers.js'
import { definitionNameTooLong } from '../../core/identifier-length.js'
import { resolveMapping } from '../../core/mapping.js'
import { compileOnly, conflictKeyOf, isUniqueKey, readTableInfo, visibleTableNamed, type TableInfo } from './catalog.js'
import type { CheckedMigration } from '../../core/checked-migration.js'
import { deniedObject, isCompileError, isPermissionDenied, serverMessage } from '../../db/pg-errors.js'
import { withSavepoint } from '../../db/with-savepoint.js'
import { noteOwnedTables } from '../../db/owned-tables.js'

// The result's shape is pure data, shared with the shapes built from it.
export type { CheckedMigration } from '../../core/checked-migration.js'

async function requireTable(
  client: pg.ClientBase,
  def: MigrationDefinition,
  side: 'legacy' | 'shadow',
): Promise<TableInfo> {
  const info = await readTableInfo(client, def[side].table)
  if (!info)
    throw new ConfigInvalid(
      def.name,
      `${side} table ${displayName(def[side].table)} does not exist; create it or fix "${side}.table"`,
    )
  return info
}

async function compileMapped(
  client: pg.ClientBase,
  def: MigrationDefinition,
  direction: 'forward' | 'backward',
  target: string,
  source: string,
  column: string,
  expression: string,
  targetInfo: TableInfo,
): Promise<void> {
  // A GENERATED ALWAYS identity column is written with OVERRIDING SYSTEM VALUE, as every statement of the tool writes it.
  const overriding = targetInfo.columns.get(column)?.identity === 'a' ? ' OVERRIDING SYSTEM VALUE' : ''
  try {
    await withSavepoint(client, 'cutover_compile', () =>
      compileOnly(
        client,
        `INSERT INTO ${target} (${quoteIdent(column)})${overriding} SELECT (${expression}) FROM ${source}`,
      ),
    )
  } catch (error) {
    // A missing grant is not a mistake in the mapping: it is named as such (exit 4), not blamed on the config. The
    // hint needs to know which tables are the migration's own (a mapping may read another one: SELECT only there).
    if (isPermissionDenied(error)) {
      const denied = deniedObject(error)
      const table =
        denied?.kind === 'table' && denied.name
          ? await visibleTableNamed(client, denied.name).catch(() => undefined)
          : undefined
      throw noteOwnedTables(error, { owned: [def.legacy.table, def.shadow.table], denied: table })
    }
    const what =
      def[direction][column] === undefined
        ? `same-name column "${column}"`
        : `"${direction}.${column}" (${def[direction][column]})`
    const reason = isCompileError(error) ? serverMessage(error) : `could not be compiled: ${serverMessage(error)}`
    throw new ConfigInvalid(
      def.name,
      `${what} does not fit ${direction === 'forward' ? 'shadow' : 'legacy'} column "${column}": ${reason}; fix "${direction}.${column}"`,
      { cause: error },
    )
  }
}

/** Checks one definition against the catalog; throws ConfigInvalid naming what to fix. Writes nothing. */
export async function checkAgainstCatalog(client: pg.ClientBase, def: MigrationDefinition): Promise<CheckedMigration> {
  // A definition built in code need not have come through parseMigration: the server would cut a long name silently.
  const tooLong = definitionNameTooLong(def)
  if (tooLong) throw new ConfigInvalid(def.name, tooLong)
  const legacy = await requireTable(client, def, 'legacy')
  const shadow = await requireTable(client, def, 'shadow')
  if (legacy.oid === shadow.oid)
    throw new ConfigInvalid(def.name, 'legacy and shadow name the same table; point "shadow.table" at the new table')
  for (const [side, info] of [
    ['legacy', legacy],
    ['shadow', shadow],
  ] as const) {
    const key = def[side].key
    const absent = key.find((k) => !info.columns.has(k))
    if (absent)
      throw new ConfigInvalid(
        def.name,
        `key column "${absent}" is not a column of ${side} table ${displayName(def[side].table)}; fix "${side}.key"`,
      )
    if (!isUniqueKey(info, key) && !(side === 'shadow' && conflictKeyOf(info, key))) {
      // A partitioned table's unique keys must include its partition columns: the one PostgreSQL accepts is suggested.
      const partition = (info.partitionColumns ?? []).filter((c) => !key.includes(c))
      if (partition.includes('(expression)')) {
        throw new ConfigInvalid(
          def.name,
          `${side} key (${key.join(', ')}) is not the primary key or a unique index of ${displayName(def[side].table)}, ` +
            'and its partition key is an expression, which no unique index can include; partition it by columns, or name a unique key in "' +
            side +
            '.key"',
        )
      }
      throw new ConfigInvalid(
        def.name,
        `${side} key (${key.join(', ')}) is not the primary key or a unique index of ${displayName(def[side].table)}; ` +
          `add one: CREATE UNIQUE INDEX ON ${quoteQualified(def[side].table)} (${[...key, ...partition].map(quoteIdent).join(', ')})`,
      )
    }
    const nullable = key.find((k) => !info.columns.get(k)?.isNotNull)
    if (nullable)
      throw new ConfigInvalid(
        def.name,
        `${side} key column "${nullable}" of ${displayName(def[side].table)} allows NULL; make it NOT NULL`,
      )
  }
  const shape = (info: TableInfo) => [...info.columns.values()]
  const mapping = resolveMapping(def, shape(legacy), shape(shadow))
  const unfilled = (shadow.partitionColumns ?? []).find((c) => !mapping.forward.some((m) => m.column === c))
  if (unfilled) {
    throw new ConfigInvalid(
      def.name,
      `shadow partition column "${unfilled}" of ${displayName(def.shadow.table)} gets no value from the mapping, so a row's partition could not be found again; ` +
        `add "forward": {"${unfilled}": "<SQL over ${displayName(def.legacy.table)}'s columns>"}`,
    )
  }
  const notes: string[] = []
  if (!isUniqueKey(shadow, def.shadow.key)) {
    notes.push(
      `no index of partitioned ${displayName(def.shadow.table)} enforces the uniqueness of its key (${def.shadow.key.join(', ')}) alone; ` +
        `rows are found by it and written through (${conflictKeyOf(shadow, def.shadow.key)?.join(', ')}); while legacy is authoritative its key enforces it, and verify and doctor report duplicates`,
    )
  }
  const legacyTable = quoteQualified(def.legacy.table)
  const shadowTable = quoteQualified(def.shadow.table)
  for (const m of mapping.forward)
    await compileMapped(client, def, 'forward', shadowTable, legacyTable, m.column, m.expression, shadow)
  for (const m of mapping.backward)
    await compileMapped(client, def, 'backward', legacyTable, shadowTable, m.column, m.expression, legacy)
  return { definition: def, legacy, shadow, mapping, ...(notes.length > 0 ? { notes } : {}) }
}
