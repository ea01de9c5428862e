/**
 * Resolves a definition's `forward` and `backward` mappings against the two
 * tables' columns: which columns each side's writes fill, with which SQL
 * expression, and which refusal applies when the mapping is incomplete.
 */
import type { MigrationDefinition } from './definition.js'
import { ConfigInvalid } from './errors.js'
import { displayName, quoteIdent } from './identifiers.js'

export interface ColumnShape {
  readonly name: string
  readonly isNotNull: boolean
  readonly hasDefault: boolean
  readonly isGenerated: boolean
}

/** A target column and the SQL expression (over the other side's columns) that fills it. */
export interface MappedColumn {
  readonly column: string
  readonly expression: string
}

export interface ResolvedMapping {
  /** Every shadow column a write fills, from legacy columns. */
  readonly forward: readonly MappedColumn[]
  /** Every legacy column, from shadow columns (reads served from the shadow, and writes once it is authoritative). */
  readonly backward: readonly MappedColumn[]
  readonly legacyColumns: readonly string[]
  readonly shadowColumns: readonly string[]
}

/**
 * The expression a definition gives `column` in `direction`, if any: as the server resolved it at registration
 * when the definition is a registered one (qualified names, explicit argument types), else as written.
 */
function explicit(def: MigrationDefinition, direction: 'forward' | 'backward', column: string): string | undefined {
  if (!Object.hasOwn(def[direction], column)) return undefined
  const resolved = def.resolved?.[direction]
  return (resolved && Object.hasOwn(resolved, column) ? resolved[column] : undefined) ?? def[direction][column]
}

function refuse(def: MigrationDefinition, detail: string): never {
  throw new ConfigInvalid(def.name, detail)
}

export function resolveMapping(
  def: MigrationDefinition,
  legacy: readonly ColumnShape[],
  shadow: readonly ColumnShape[],
): ResolvedMapping {
  const legacyNames = new Set(legacy.map((c) => c.name))
  const shadowNames = new Set(shadow.map((c) => c.name))
  const legacyTable = displayName(def.legacy.table)
  const shadowTable = displayName(def.shadow.table)
  for (const column of Object.keys(def.forward)) {
    if (!shadowNames.has(column))
      refuse(
        def,
        `"forward.${column}" names no column of shadow table ${shadowTable}; use one of its columns: ${[...shadowNames].join(', ')}`,
      )
  }
  for (const column of Object.keys(def.backward)) {
    if (!legacyNames.has(column))
      refuse(
        def,
        `"backward.${column}" names no column of legacy table ${legacyTable}; use one of its columns: ${[...legacyNames].join(', ')}`,
      )
  }
  for (const column of Object.keys(def.compare)) {
    if (!shadowNames.has(column))
      refuse(
        def,
        `"compare.${column}" names no column of shadow table ${shadowTable}; compare settings are per shadow column`,
      )
  }
  for (const [side, table, names] of [
    ['legacy', legacyTable, legacyNames],
    ['shadow', shadowTable, shadowNames],
  ] as const) {
    for (const key of def[side].key) {
      if (!names.has(key))
        refuse(def, `key column "${key}" is not a column of ${side} table ${table}; fix "${side}.key"`)
    }
  }
  const forward: MappedColumn[] = []
  for (const column of shadow) {
    if (column.isGenerated) {
      if (Object.hasOwn(def.forward, column.name))
        refuse(
          def,
          `shadow column "${column.name}" of ${shadowTable} is generated and cannot be written; remove "forward.${column.name}"`,
        )
      continue
    }
    const expression =
      explicit(def, 'forward', column.name) ?? (legacyNames.has(column.name) ? quoteIdent(column.name) : undefined)
    if (expression !== undefined) {
      forward.push({ column: column.name, expression })
    } else if (column.isNotNull && !column.hasDefault) {
      refuse(
        def,
        `shadow column "${column.name}" of ${shadowTable} is NOT NULL with no default and no mapping; add "forward": {"${column.name}": "<SQL over ${legacyTable}'s columns>"} or give the column a default`,
      )
    }
  }
  const backward: MappedColumn[] = []
  for (const column of legacy) {
    if (column.isGenerated) continue
    const expression =
      explicit(def, 'backward', column.name) ?? (shadowNames.has(column.name) ? quoteIdent(column.name) : undefined)
    if (expression === undefined) {
      refuse(
        def,
        `legacy column "${column.name}" of ${legacyTable} has no backward mapping, so reads from the shadow could not return it; add "backward": {"${column.name}": "<SQL over ${shadowTable}'s columns>"} (or "NULL")`,
      )
    }
    backward.push({ column: column.name, expression })
  }
  for (const [i, key] of def.shadow.key.entries()) {
    if (!forward.some((m) => m.column === key))
      refuse(def, `shadow key column "${key}" gets no value from the mapping; add "forward.${key}"`)
    const legacyKey = def.legacy.key[i] as string
    if (!backward.some((m) => m.column === legacyKey))
      refuse(def, `legacy key column "${legacyKey}" gets no value from the mapping; add "backward.${legacyKey}"`)
  }
  return {
    forward,
    backward,
    legacyColumns: legacy.map((c) => c.name),
    shadowColumns: shadow.map((c) => c.name),
  }
}

/** Legacy column → shadow column, for every forward mapping that is a bare column reference. */
export function plainColumnMap(
  forward: readonly MappedColumn[],
  legacyColumns: readonly string[],
): Map<string, string> {
  const legacy = new Set(legacyColumns)
  const map = new Map<string, string>()
  for (const { column, expression } of forward) {
    const text = expression.trim()
    let source: string | undefined
    if (/^[a-z_][a-z0-9_$]*$/.test(text)) source = text
    else if (/^"(?:[^"]|"")+"$/.test(text)) source = text.slice(1, -1).replaceAll('""', '"')
    if (source !== undefined && legacy.has(source) && !map.has(source)) map.set(source, column)
  }
  return map
}
