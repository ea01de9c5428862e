/**
 * A group's member whose state differs from another member's: the group no
 * longer moves as one (a state row edited by hand, or members registered into
 * a group apart). A rollback of the group brings them back together.
 */
import { controlSchema } from '../../db/control-schema.js'
import type { DoctorCheck } from './finding.js'

export const groupMembersCheck: DoctorCheck = async (db, target) => {
  const s = controlSchema(target.schema)
  const { rows } = await db.query<{ group: string; states: string }>(
    `SELECT m.definition ->> 'group' AS "group",
            string_agg(o.name || ' ' || st.phase || CASE WHEN st.phase = 'ramp' THEN ' ' || st.read_percent || '%' ELSE '' END, ', ' ORDER BY o.name) AS states
       FROM ${s.table('migrations')} m
       JOIN ${s.table('migrations')} o ON o.definition ->> 'group' = m.definition ->> 'group'
       JOIN ${s.table('state')} st ON st.migration = o.name
      WHERE m.name = $1 GROUP BY 1 HAVING count(DISTINCT (st.phase, st.read_percent)) > 1`,
    [target.migration.name],
  )
  const row = rows[0]
  if (!row) return []
  return [
    {
      migration: target.migration.name,
      severity: 'error',
      code: 'group_members_disagree',
      message: `the members of group ${row.group} are in different states (${row.states}): a routing key may read them from different sides`,
      command: `cutover rollback ${row.group}`,
    },
  ]
}
