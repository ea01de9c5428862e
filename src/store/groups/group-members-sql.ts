/** Which registered migrations form a group (their definitions carry its name), and which group a migration is in. */
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'

/** The members of `group`, by name (the order state rows are locked in); empty when no migration is in it. */
export async function readGroupMembers(db: Queryable, schema: string, group: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT name FROM ${controlSchema(schema).table('migrations')} WHERE definition ->> 'group' = $1 ORDER BY name`,
    [group],
  )
  return rows.map((r) => r.name)
}

/** The group `migration` belongs to, or undefined (also for an unknown migration). */
export async function readGroupOf(db: Queryable, schema: string, migration: string): Promise<string | undefined> {
  const { rows } = await db.query<{ group: string | null }>(
    `SELECT definition ->> 'group' AS "group" FROM ${controlSchema(schema).table('migrations')} WHERE name = $1`,
    [migration],
  )
  return rows[0]?.group ?? undefined
}

/** Every group and its members, by group name. */
export async function readAllGroups(db: Queryable, schema: string): Promise<Map<string, string[]>> {
  const { rows } = await db.query<{ group: string; members: string[] }>(
    `SELECT definition ->> 'group' AS "group", array_agg(name ORDER BY name) AS members
       FROM ${controlSchema(schema).table('migrations')} WHERE definition ? 'group' GROUP BY 1 ORDER BY 1`,
  )
  return new Map(rows.map((r) => [r.group, r.members]))
}

/** The oids of the legacy tables of `members` (a group retired together keeps the foreign keys among them). */
export async function readMemberLegacyOids(
  db: Queryable,
  schema: string,
  members: readonly string[],
): Promise<Set<number>> {
  const { rows } = await db.query<{ oid: number }>(
    `SELECT legacy_table::oid::int AS oid FROM ${controlSchema(schema).table('migrations')} WHERE name = ANY ($1::text[])`,
    [members],
  )
  return new Set(rows.map((r) => r.oid))
}
