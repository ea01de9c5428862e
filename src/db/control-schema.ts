/** The control schema as a value: its name quoted once, its tables, and the one statement that writes an event. */
import { ConfigInvalid } from '../core/errors.js'
import { identifierTooLong } from '../core/identifier-length.js'
import { quoteIdent } from '../core/identifiers.js'
import type { Queryable } from './queryable.js'

/** One row of the control schema's `events` table; what is left out takes the column's default. */
export interface EventRecord {
  /** The migration the event is about; null for a group's event. */
  readonly migration: string | null
  /** The group a group's event is about (one event for its members' change; sql/0009). */
  readonly group?: string | undefined
  readonly actor: string
  readonly kind: string
  readonly reason?: string | null | undefined
  readonly from?: { readonly phase: string; readonly percent: number } | undefined
  readonly to?: { readonly phase: string; readonly percent: number } | undefined
  readonly forced?: boolean | undefined
  /** Stored as jsonb; default `{}`. */
  readonly details?: unknown
}

export class ControlSchema {
  /** The schema's name as given (`cutover`). */
  readonly name: string
  /** The name quoted as an identifier (`"cutover"`), computed once. */
  readonly quoted: string
  readonly #insertEvent: string
  readonly #insertGroupEvent: string

  constructor(name: string) {
    const tooLong = identifierTooLong('schema', name, '--schema (the control schema)')
    if (tooLong) throw new ConfigInvalid(undefined, tooLong)
    this.name = name
    this.quoted = quoteIdent(name)
    this.#insertEvent = `INSERT INTO ${this.quoted}.events (migration, actor, kind, reason, from_phase, from_percent, to_phase, to_percent, forced, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb) RETURNING id::text`
    // Apart, so a control schema older than sql/0009 (no group_name) still takes a migration's event.
    this.#insertGroupEvent = `INSERT INTO ${this.quoted}.events (migration, actor, kind, reason, from_phase, from_percent, to_phase, to_percent, forced, details, group_name)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11) RETURNING id::text`
  }

  /** A control-schema table, qualified and quoted: `"cutover".events`. */
  table(name: string): string {
    return `${this.quoted}.${name}`
  }

  /** Appends one event (in the caller's transaction when `db` is its client) and returns its id. */
  async insertEvent(db: Queryable, event: EventRecord): Promise<string> {
    const values = [
      event.migration,
      event.actor,
      event.kind,
      event.reason ?? null,
      event.from?.phase ?? null,
      event.from?.percent ?? null,
      event.to?.phase ?? null,
      event.to?.percent ?? null,
      event.forced ?? false,
      JSON.stringify(event.details ?? {}),
    ]
    const { rows } =
      event.group === undefined
        ? await db.query<{ id: string }>(this.#insertEvent, values)
        : await db.query<{ id: string }>(this.#insertGroupEvent, [...values, event.group])
    return (rows[0] as { id: string }).id
  }
}

const schemas = new Map<string, ControlSchema>()

/** The control schema named `name` (one value per name, reused). */
export function controlSchema(name: string): ControlSchema {
  let schema = schemas.get(name)
  if (!schema) {
    schema = new ControlSchema(name)
    schemas.set(name, schema)
  }
  return schema
}
