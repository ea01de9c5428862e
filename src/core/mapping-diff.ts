/** What a re-registered definition changes in how rows are written to both tables: tables, keys and mapping (pure). */
import type { MigrationDefinition } from './definition.js'
import { displayName } from './identifiers.js'
import type { Phase } from './phases.js'

export interface MappingChange {
  /** `forward.<shadow column>`, `backward.<legacy column>`, `legacy.table`, `shadow.key`, … */
  readonly field: string
  /** The value before; null for a mapping entry that was the same-name default. */
  readonly before: string | null
  /** The value after; null for a mapping entry that becomes the same-name default. */
  readonly after: string | null
}

/** Each table, key and forward/backward entry that differs, sides first, then forward and backward by column name. */
export function diffMapping(before: MigrationDefinition, after: MigrationDefinition): MappingChange[] {
  const changes: MappingChange[] = []
  for (const side of ['legacy', 'shadow'] as const) {
    const [wasTable, nowTable] = [displayName(before[side].table), displayName(after[side].table)]
    if (wasTable !== nowTable) changes.push({ field: `${side}.table`, before: wasTable, after: nowTable })
    const [wasKey, nowKey] = [before[side].key.join(', '), after[side].key.join(', ')]
    if (wasKey !== nowKey) changes.push({ field: `${side}.key`, before: wasKey, after: nowKey })
  }
  for (const direction of ['forward', 'backward'] as const) {
    const columns = [...new Set([...Object.keys(before[direction]), ...Object.keys(after[direction])])].sort()
    for (const column of columns) {
      const was = before[direction][column] ?? null
      const now = after[direction][column] ?? null
      if (was !== now) changes.push({ field: `${direction}.${column}`, before: was, after: now })
    }
  }
  return changes
}

/** `forward.status: "status" (same name) -> "upper(status)"`. */
export function describeMappingChange(change: MappingChange): string {
  const column = change.field.slice(change.field.indexOf('.') + 1)
  const show = (value: string | null): string => (value === null ? `"${column}" (same name)` : JSON.stringify(value))
  return `${change.field}: ${show(change.before)} -> ${show(change.after)}`
}

/**
 * From dual_write on, writers put rows in both tables through `forward`/`backward`:
 * a change reaches running processes one by one, and rows written meanwhile
 * follow the old mapping. Changing it then needs `force`.
 */
export function isMappingChangeRisky(phase: Phase, changes: readonly MappingChange[]): boolean {
  return phase !== 'off' && changes.length > 0
}
