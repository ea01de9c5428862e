/**
 * What `register` refuses about groups, judged in its transaction after the
 * definitions are written: a group named like a migration, and a group whose
 * members are not in one state (they could then never move as one).
 */
import type pg from 'pg'
import { ConfigInvalid } from '../core/errors.js'
import { controlSchema } from '../db/control-schema.js'

export async function checkGroupsRegistered(client: pg.ClientBase, schema: string, names: readonly string[]): Promise<void> {
  const s = controlSchema(schema)
  const { rows: clashes } = await client.query<{ name: string }>(
    `SELECT m.name FROM ${s.table('migrations')} m WHERE EXISTS (SELECT 1 FROM ${s.table('migrations')} o WHERE o.definition ->> 'group' = m.name) ORDER BY 1 LIMIT 1`)
  if (clashes[0]) {
    throw new ConfigInvalid(clashes[0].name, `is also the name of a group; commands take either, so give the group or the migration another name`)
  }
  const { rows } = await client.query<{ group: string; states: string }>(
    `SELECT m.definition ->> 'group' AS "group",
            string_agg(m.name || ' ' || st.phase || CASE WHEN st.phase = 'ramp' THEN ' ' || st.read_percent || '%' ELSE '' END, ', ' ORDER BY m.name) AS states
       FROM ${s.table('migrations')} m JOIN ${s.table('state')} st ON st.migration = m.name
      WHERE m.definition ->> 'group' IN (SELECT definition ->> 'group' FROM ${s.table('migrations')} WHERE name = ANY ($1::text[]))
      GROUP BY 1 HAVING count(DISTINCT (st.phase, st.read_percent)) > 1 ORDER BY 1 LIMIT 1`, [names])
  if (rows[0]) {
    throw new ConfigInvalid(undefined, `group "${rows[0].group}" would join migrations in different states (${rows[0].states}); a group moves as one, so bring them to one phase first (cutover rollback each one to dual_write) and register again`)
  }
}
