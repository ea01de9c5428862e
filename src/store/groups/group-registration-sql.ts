/** What `register` reads to judge its groups: a migration named like a group, and a group whose members are in different states. */
import type { Queryable } from '../../db/queryable.js'
import { controlSchema } from '../../db/control-schema.js'

/** The first migration (by name) that has the name of a group. */
export async function readMigrationNamedLikeGroup(db: Queryable, schema: string): Promise<string | undefined> {
  const s = controlSchema(schema)
  const { rows } = await db.query<{ name: string }>(
    `SELECT m.name FROM ${s.table('migrations')} m WHERE EXISTS (SELECT 1 FROM ${s.table('migrations')} o WHERE o.definition ->> 'group' = m.name) ORDER BY 1 LIMIT 1`,
  )
  return rows[0]?.name
}

/** The first group of one of `names` whose members are in different states, with each member's state shown. */
export async function readGroupInDifferentStates(
  db: Queryable,
  schema: string,
  names: readonly string[],
): Promise<{ group: string; states: string } | undefined> {
  const s = controlSchema(schema)
  const { rows } = await db.query<{ group: string; states: string }>(
    `SELECT m.definition ->> 'group' AS "group",
            string_agg(m.name || ' ' || st.phase || CASE WHEN st.phase = 'ramp' THEN ' ' || st.read_percent || '%' ELSE '' END, ', ' ORDER BY m.name) AS states
       FROM ${s.table('migrations')} m JOIN ${s.table('state')} st ON st.migration = m.name
      WHERE m.definition ->> 'group' IN (SELECT definition ->> 'group' FROM ${s.table('migrations')} WHERE name = ANY ($1::text[]))
      GROUP BY 1 HAVING count(DISTINCT (st.phase, st.read_percent)) > 1 ORDER BY 1 LIMIT 1`,
    [names],
  )
  return rows[0]
}
