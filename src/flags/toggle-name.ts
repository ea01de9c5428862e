/** The Unleash toggle a migration's ramp reads from. */
import type { MigrationDefinition } from '../core/definition.js'

/** `cutover.<migration>.shadow-reads`, the name used when the definition gives no `routing.toggle`. */
export function defaultToggleName(migration: string): string {
  return `cutover.${migration}.shadow-reads`
}

export function toggleName(definition: Pick<MigrationDefinition, 'name' | 'routing'>): string {
  return definition.routing.toggle ?? defaultToggleName(definition.name)
}
