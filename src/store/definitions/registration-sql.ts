/** What `register` reads of a definition before it writes one: who owns a shadow table, and the definition registered now. */
import type { Queryable } from '../../db/queryable.js'
import { controlSchema } from '../../db/control-schema.js'

/** The other migration whose shadow table is `shadowOid`, if any. */
export async function readShadowOwner(
  db: Queryable,
  schema: string,
  shadowOid: number,
  name: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT name FROM ${controlSchema(schema).quoted}.migrations WHERE shadow_table = $1::oid::regclass AND name <> $2`,
    [shadowOid, name],
  )
  return rows[0]?.name
}

/** A registered definition as register compares it: the stored one, whether it equals the new one, its phase and version. */
export interface PreviousDefinition {
  definition: unknown
  same: boolean
  phase: string
  definition_version: string
}

/** The definition registered as `name` (its state row locked), compared with `definition` (its JSON); undefined when new. */
export async function readPreviousDefinition(
  db: Queryable,
  schema: string,
  name: string,
  definition: unknown,
): Promise<PreviousDefinition | undefined> {
  const s = controlSchema(schema).quoted
  const { rows } = await db.query<PreviousDefinition>(
    `SELECT m.definition, (m.definition - 'resolved') = $2::jsonb AS same, st.phase, st.definition_version::text AS definition_version
       FROM ${s}.migrations m JOIN ${s}.state st ON st.migration = m.name WHERE m.name = $1 FOR UPDATE OF st`,
    [name, JSON.stringify(definition)],
  )
  return rows[0]
}
