/**
 * Writers that bypass the DAL, as the bypass net counted them (one finding per
 * application_name and role: rows by operation, last seen), and a net built
 * from an older definition than the registered one (it copies with the old mapping).
 */
import { controlSchema } from '../../db/control-schema.js'
import { isNotFound } from '../../db/pg-errors.js'
import type { DoctorCheck, Finding } from './finding.js'

interface WriterRow {
  application_name: string
  role: string
  ops: string
  writes: number
  last_seen: Date
  recent: boolean
  mode: string | null
}

/** A writer seen within this long is a warning; earlier ones are history (info). */
const RECENT = '24 hours'

export const bypassWritersCheck: DoctorCheck = async (db, { schema, migration }) => {
  const s = controlSchema(schema).quoted
  let rows: WriterRow[]
  try {
    ;({ rows } = await db.query<WriterRow>(
      `SELECT t.application_name, t.role, string_agg(t.writes || ' ' || t.op, ', ' ORDER BY t.op) AS ops, sum(t.writes)::int AS writes,
              max(t.last_seen) AS last_seen, max(t.last_seen) > clock_timestamp() - interval '${RECENT}' AS recent,
              (SELECT n.mode FROM ${s}.bypass_nets n WHERE n.migration = $1) AS mode
         FROM ${s}.bypass_write_totals() AS t WHERE t.migration = $1
        GROUP BY t.application_name, t.role ORDER BY max(t.last_seen) DESC`,
      [migration.name],
    ))
  } catch (error) {
    // A control schema older than sql/0008 has no bypass net: the control-schema check reports it.
    if (isNotFound(error)) return []
    throw error
  }
  return rows.map((r): Finding => ({
    migration: migration.name,
    severity: r.recent ? 'warning' : 'info',
    code: 'bypass_writers',
    message:
      `application_name ${JSON.stringify(r.application_name)}, role ${JSON.stringify(r.role)} wrote ${r.writes} legacy row(s) outside the DAL (${r.ops}), last seen ${r.last_seen.toISOString()}; ` +
      (r.mode === 'copy'
        ? 'the net copies them to the shadow'
        : r.mode === 'record'
          ? 'the net records them as divergences'
          : 'no net is installed now, so later ones go unseen'),
    command:
      r.mode === 'copy'
        ? `cutover verify ${migration.name}`
        : r.mode === 'record'
          ? `cutover repair ${migration.name}`
          : `cutover net install ${migration.name} --mode copy`,
  }))
}

export const bypassNetStaleCheck: DoctorCheck = async (db, { schema, migration }) => {
  const s = controlSchema(schema).quoted
  let rows: { mode: string; built: number; current: string }[]
  try {
    ;({ rows } = await db.query<{ mode: string; built: number; current: string }>(
      `SELECT n.mode, n.definition_version AS built, st.definition_version::text AS current
         FROM ${s}.bypass_nets n JOIN ${s}.state st ON st.migration = n.migration
        WHERE n.migration = $1 AND n.definition_version < st.definition_version`,
      [migration.name],
    ))
  } catch (error) {
    if (isNotFound(error)) return []
    throw error
  }
  return rows.map((r) => ({
    migration: migration.name,
    severity: 'error' as const,
    code: 'bypass_net_stale',
    message: `the bypass net (${r.mode} mode) was built from definition version ${r.built}, not ${r.current}: it copies and records with the old mapping`,
    command: `cutover net install ${migration.name} --mode ${r.mode}`,
  }))
}
