/**
 * A guardrail's rollback from an application process, through the control
 * schema's `guardrail_rollback` (sql/0010): the application role may move a
 * migration (or its group) back to dual_write at 0 % and nowhere else, so it
 * holds no grant to write `state` or `events`. The rule is planRollback's
 * (core/phases.ts), which the CLI's rollback applies.
 */
import { TransitionInvalid } from '../../core/errors.js'
import { controlSchema } from '../../db/control-schema.js'
import { isRollbackOfComplete, serverMessage } from '../../db/pg-errors.js'
import type { Queryable } from '../../db/queryable.js'

export interface GuardrailRollbackInput {
  readonly migration: string
  readonly actor: string
  readonly reason?: string | undefined
  readonly details?: Readonly<Record<string, unknown>> | undefined
}

/** One migration the rollback moved: where it was. */
export interface RolledBackMember {
  readonly migration: string
  readonly fromPhase: string
  readonly fromPercent: number
  readonly version: number
}

/** Rolls back; returns each member it moved (none when already rolled back or off). Refuses complete. */
export async function guardrailRollback(
  db: Queryable,
  schema: string,
  input: GuardrailRollbackInput,
): Promise<RolledBackMember[]> {
  try {
    const { rows } = await db.query<{ migration: string; from_phase: string; from_percent: number; version: string }>(
      `SELECT migration, from_phase, from_percent, version::text FROM ${controlSchema(schema).quoted}.guardrail_rollback($1, $2, $3, $4::jsonb)`,
      [input.migration, input.actor, input.reason ?? null, JSON.stringify(input.details ?? {})],
    )
    return rows.map((r) => ({
      migration: r.migration,
      fromPhase: r.from_phase,
      fromPercent: Number(r.from_percent),
      version: Number(r.version),
    }))
  } catch (error) {
    if (isRollbackOfComplete(error)) throw new TransitionInvalid(input.migration, serverMessage(error))
    throw error
  }
}
