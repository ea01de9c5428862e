/**
 * The tables a migration owns (its legacy and shadow tables), remembered for a
 * permission error met while working on it, with the table it was denied on
 * when the catalog could say which one that is. PostgreSQL names a denied table
 * without its schema, and a mapping may read a table that is none of the
 * migration's: the grant hint (missing-grant.ts) offers write privileges only
 * on an owned table, never on such a one.
 */
import type { QualifiedName } from '../core/identifiers.js'

export interface MigrationTables {
  /** The migration's legacy and shadow tables. */
  readonly owned: readonly QualifiedName[]
  /** The denied table, schema-qualified as the statement resolved it, when the catalog found exactly one. */
  readonly denied?: QualifiedName | undefined
}

const notedFor = new WeakMap<object, MigrationTables>()

/** Remembers the migration's tables for `error` (the server's, unchanged: its type and fields stay); returns the error. */
export function noteOwnedTables(error: unknown, tables: MigrationTables): unknown {
  if (typeof error === 'object' && error !== null) notedFor.set(error, tables)
  return error
}

/** The tables noted for an error or any error in its chain of causes; undefined when none were. */
export function ownedTablesOf(error: unknown): MigrationTables | undefined {
  for (
    let e = error, depth = 0;
    typeof e === 'object' && e !== null && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const tables = notedFor.get(e)
    if (tables) return tables
  }
  return undefined
}
