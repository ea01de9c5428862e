/** A `state` row as read: its columns, its definition version on any control schema, and the state it holds. */
import { UnknownMigration } from '../../core/errors.js'
import { isPhase, type MigrationState } from '../../core/phases.js'
import type { Queryable } from '../../db/queryable.js'
import { controlSchema } from '../../db/control-schema.js'

/**
 * The definition version of a state row, read so that a control schema older
 * than sql/0005 still works (the column is then absent: null).
 */
export const DEFINITION_VERSION_SQL = (alias: string): string => `(to_jsonb(${alias}) ->> 'definition_version')`

export interface StateRow {
  migration: string
  phase: string
  read_percent: number
  authority: string
  version: string
}

export function toState(row: StateRow): MigrationState {
  if (!isPhase(row.phase)) throw new Error(`control schema holds unknown phase ${row.phase}`)
  return {
    phase: row.phase,
    readPercent: row.read_percent,
    authority: row.authority === 'shadow' ? 'shadow' : 'legacy',
    version: Number(row.version),
  }
}

export const STATE_COLUMNS = 'migration, phase, read_percent, authority, version::text AS version'

export async function readState(db: Queryable, schema: string, migration: string): Promise<MigrationState> {
  const { rows } = await db.query<StateRow>(
    `SELECT ${STATE_COLUMNS} FROM ${controlSchema(schema).quoted}.state WHERE migration = $1`,
    [migration],
  )
  if (!rows[0]) throw new UnknownMigration(migration)
  return toState(rows[0])
}

export function definitionVersionOf(text: string | null): { definitionVersion?: number } {
  return text === null ? {} : { definitionVersion: Number(text) }
}
