/** Whether a migration is retired: the last retire or unretire event says so, and its details say what retire did. */
import { TransitionInvalid } from '../../core/errors.js'
import { displayName, type QualifiedName } from '../../core/identifiers.js'
import type { ColumnInfo } from '../catalog/catalog.js'
import type { StoredForeignKey } from './foreign-keys-sql.js'
import type { Queryable } from '../../db/queryable.js'
import { controlSchema } from '../../db/control-schema.js'

/** What the `retire` event records, so that unretire can undo exactly that. */
export interface RetireDetails {
  readonly legacyTable: QualifiedName
  readonly retiredTable: QualifiedName
  /** The view created under the legacy name (`--alias`), or null. */
  readonly alias: QualifiedName | null
  readonly foreignKeys: readonly StoredForeignKey[]
  /** The legacy table's columns when it was retired: the DAL's legacy shape while retired. */
  readonly legacyColumns: readonly ColumnInfo[]
  readonly dropSql: string
  readonly overriddenGate?: string
  readonly overriddenBecause?: string
  /** The mode of the bypass net retire removed, when there was one (unretire does not reinstall it). */
  readonly bypassNetRemoved?: string
}

export interface Retirement {
  readonly eventId: string
  readonly at: Date
  readonly actor: string
  readonly details: RetireDetails
}

/** The current retirement of `migration`, or undefined when it is not retired. */
export async function readRetirement(
  db: Queryable,
  schema: string,
  migration: string,
): Promise<Retirement | undefined> {
  const { rows } = await db.query<{ id: string; at: Date; actor: string; kind: string; details: RetireDetails }>(
    // `e.id`, not the text output column `id`: as text, event 9 sorts after event 10.
    `SELECT e.id::text AS id, e.at, e.actor, e.kind, e.details FROM ${controlSchema(schema).quoted}.events AS e
      WHERE e.migration = $1 AND e.kind IN ('retire', 'unretire') ORDER BY e.id DESC LIMIT 1`,
    [migration],
  )
  const row = rows[0]
  return row?.kind === 'retire' ? { eventId: row.id, at: row.at, actor: row.actor, details: row.details } : undefined
}

/** The one line every command that would act on the legacy table gives for a retired migration. */
export function retiredRefusal(migration: string, retirement: Retirement): TransitionInvalid {
  return new TransitionInvalid(
    migration,
    `retired; run cutover unretire ${migration} first (the legacy table is ${displayName(retirement.details.retiredTable)} now)`,
  )
}

/** Throws the retired refusal when `migration` is retired. */
export async function refuseWhenRetired(db: Queryable, schema: string, migration: string): Promise<void> {
  const retirement = await readRetirement(db, schema, migration)
  if (retirement) throw retiredRefusal(migration, retirement)
}
