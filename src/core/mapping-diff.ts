/** What a re-registered definition changes in the mapping, column by column (pure). */
import type { MigrationDefinition } from './definition.js'
import type { Phase } from './phases.js'

export interface MappingChange {
  readonly direction: 'forward' | 'backward'
  readonly column: string
  /** The expression before; null for the same-name default. */
  readonly before: string | null
  /** The expression after; null for the same-name default. */
  readonly after: string | null
}

/** Each forward/backward entry added, removed or changed, forward first, by column name. */
export function diffMapping(before: MigrationDefinition, after: MigrationDefinition): MappingChange[] {
  const changes: MappingChange[] = []
  for (const direction of ['forward', 'backward'] as const) {
    const columns = [...new Set([...Object.keys(before[direction]), ...Object.keys(after[direction])])].sort()
    for (const column of columns) {
      const was = before[direction][column] ?? null
      const now = after[direction][column] ?? null
      if (was !== now) changes.push({ direction, column, before: was, after: now })
    }
  }
  return changes
}

/** `forward.status: "status" (same name) -> "upper(status)"`. */
export function describeMappingChange(change: MappingChange): string {
  const show = (expression: string | null): string => (expression === null ? `"${change.column}" (same name)` : JSON.stringify(expression))
  return `${change.direction}.${change.column}: ${show(change.before)} -> ${show(change.after)}`
}

/**
 * From dual_write on, writers put rows in both tables through `forward`/`backward`:
 * a mapping change reaches running processes one by one, and rows written
 * meanwhile follow the old mapping. Changing it then needs `force`.
 */
export function isMappingChangeRisky(phase: Phase, changes: readonly MappingChange[]): boolean {
  return phase !== 'off' && changes.length > 0
}
