/**
 * The one statement that writes a definition: `register_definition` (sql/0010), a
 * function of the control schema's owner that resolves each mapping expression
 * itself, refuses what the registering role could not run, versions the
 * definition, records the event (with the login role) and notifies. No role
 * holds a grant to write `migrations` directly.
 */
import { ConfigInvalid } from '../../core/errors.js'
import { controlSchema } from '../../db/control-schema.js'
import { isMappingRefused, serverMessage } from '../../db/pg-errors.js'
import type { Queryable } from '../../db/queryable.js'

export interface DefinitionWrite {
  readonly name: string
  /** The definition in config shape (definitionToJson). */
  readonly definition: Record<string, unknown>
  readonly legacy: number
  readonly shadow: number
  readonly actor: string
  readonly reason?: string | undefined
  /** Whether the mapping-change gate was overridden (judged by the caller). */
  readonly forced: boolean
  readonly details: Record<string, unknown>
}

export interface WrittenDefinition {
  readonly outcome: 'registered' | 'changed' | 'unchanged'
  readonly definitionVersion: number
  readonly stateVersion: number
}

/** Writes one definition in the caller's transaction; a mapping the server refuses is a ConfigInvalid naming the fix. */
export async function registerDefinition(
  db: Queryable,
  schema: string,
  write: DefinitionWrite,
): Promise<WrittenDefinition> {
  try {
    const { rows } = await db.query<{
      outcome: WrittenDefinition['outcome']
      definition_version: string
      state_version: string
    }>(
      `SELECT outcome, definition_version::text, state_version::text
         FROM ${controlSchema(schema).quoted}.register_definition($1, $2::jsonb, $3::oid::regclass, $4::oid::regclass, $5, $6, $7, $8::jsonb)`,
      [
        write.name,
        JSON.stringify(write.definition),
        write.legacy,
        write.shadow,
        write.actor,
        write.reason ?? null,
        write.forced,
        JSON.stringify(write.details),
      ],
    )
    const row = rows[0] as { outcome: WrittenDefinition['outcome']; definition_version: string; state_version: string }
    return {
      outcome: row.outcome,
      definitionVersion: Number(row.definition_version),
      stateVersion: Number(row.state_version),
    }
  } catch (error) {
    if (isMappingRefused(error)) throw new ConfigInvalid(write.name, serverMessage(error), { cause: error })
    throw error
  }
}
