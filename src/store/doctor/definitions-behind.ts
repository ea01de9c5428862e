/**
 * Live application processes still on an older definition of a migration than
 * the registered one: they refused the change (their log says why) or missed
 * it, and write with the old mapping.
 */
import { controlSchema } from '../../db/control-schema.js'
import { isNotFound } from '../../db/pg-errors.js'
import type { DoctorCheck } from './finding.js'

interface Row {
  id: string
  host: string
  pid: number
  loaded: string
  current: string
  changed_at: Date
}

export const definitionsBehindCheck: DoctorCheck = async (db, { schema, migration, thresholds }) => {
  const s = controlSchema(schema).quoted
  let rows: Row[]
  try {
    ;({ rows } = await db.query<Row>(
      `SELECT i.id, i.host, i.pid, (i.definitions ->> $1) AS loaded, st.definition_version::text AS current, st.updated_at AS changed_at
         FROM ${s}.instances i CROSS JOIN ${s}.state st
        WHERE st.migration = $1 AND i.definitions ? $1
          -- alive: a heartbeat (every 5 s) within the stale bound, and never less than the 30 s rollback counts by
          AND i.heartbeat_at >= clock_timestamp() - make_interval(secs => greatest($2, 30))
          AND (i.definitions ->> $1)::bigint < st.definition_version
          AND st.updated_at < clock_timestamp() - make_interval(secs => $2)
        ORDER BY i.host, i.pid`,
      [migration.name, thresholds.staleAfterSeconds],
    ))
  } catch (error) {
    // A control schema older than sql/0005 has no definition versions: the control-schema check reports it.
    if (isNotFound(error)) return []
    throw error
  }
  return rows.map((r) => ({
    migration: migration.name,
    severity: 'error' as const,
    code: 'definition_behind',
    message: `instance ${r.id} (pid ${r.pid} on ${r.host}) is alive but uses definition version ${r.loaded}, not ${r.current} (registered ${r.changed_at.toISOString()}); it writes with the old mapping`,
    command: `see why in the log of pid ${r.pid} on ${r.host} ("refused definition version ${r.current}"), fix that, then restart it; afterwards run: cutover verify ${migration.name}`,
  }))
}
