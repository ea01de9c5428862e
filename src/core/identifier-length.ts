/**
 * PostgreSQL keeps the first 63 bytes (NAMEDATALEN - 1) of an identifier and
 * drops the rest with no error: a longer table name from config would resolve
 * to whatever table is named by its first 63 bytes. So every name a definition
 * gives is refused past 63 bytes, at parsing and again at registration.
 */
import type { MigrationDefinition } from './definition.js'

/** The most bytes (UTF-8) PostgreSQL keeps of an identifier. */
export const MAX_IDENTIFIER_BYTES = 63

const encoder = new TextEncoder()

/** The identifier's length in bytes, as the server counts it (UTF-8). */
export function identifierBytes(name: string): number {
  return encoder.encode(name).length
}

/** What PostgreSQL keeps of `name`: its first 63 bytes, cut before a character that would not fit whole. */
export function keptIdentifier(name: string): string {
  let kept = ''
  let bytes = 0
  for (const char of name) {
    bytes += identifierBytes(char)
    if (bytes > MAX_IDENTIFIER_BYTES) break
    kept += char
  }
  return kept
}

/** One line saying why `name` cannot be used, or undefined when it fits; `what` says what it names (`table`, `column`, `schema`). */
export function identifierTooLong(what: string, name: string, field: string): string | undefined {
  const bytes = identifierBytes(name)
  if (bytes <= MAX_IDENTIFIER_BYTES) return undefined
  return (
    `${field} names ${what} ${JSON.stringify(name)} of ${bytes} bytes, but PostgreSQL keeps only the first ${MAX_IDENTIFIER_BYTES} bytes of a name ` +
    `(${JSON.stringify(keptIdentifier(name))}), which may be another ${what}; write the ${what}'s name as PostgreSQL stores it, ` +
    `at most ${MAX_IDENTIFIER_BYTES} bytes, in ${field}`
  )
}

/** The first name of a definition over 63 bytes, as one line naming the field and the fix; undefined when every name fits. */
export function definitionNameTooLong(def: MigrationDefinition): string | undefined {
  const names: [what: string, name: string, field: string][] = []
  for (const side of ['legacy', 'shadow'] as const) {
    names.push(
      ['schema', def[side].table.schema, `"${side}.table"`],
      ['table', def[side].table.name, `"${side}.table"`],
    )
    for (const column of def[side].key) names.push(['column', column, `"${side}.key"`])
  }
  for (const field of ['forward', 'backward', 'compare'] as const) {
    for (const column of Object.keys(def[field])) names.push(['column', column, `"${field}"`])
  }
  for (const [what, name, field] of names) {
    const problem = identifierTooLong(what, name, field)
    if (problem) return problem
  }
  return undefined
}
