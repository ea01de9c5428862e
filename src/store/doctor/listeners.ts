/**
 * Check 3: application processes that stopped acknowledging state. Globally, an
 * instance row whose heartbeat is stale (the process died or hangs); per
 * migration, a live instance that has not applied the state's current version.
 */
import pg from 'pg'
import type { DoctorCheck, GlobalDoctorCheck } from './finding.js'
import { controlSchema } from '../../db/control-schema.js'

export const staleListenersCheck: GlobalDoctorCheck = async (db, { schema, thresholds }) => {
  const s = controlSchema(schema).quoted
  const { rows } = await db.query<{ id: string; host: string; pid: number; heartbeat_at: Date; idle: number }>(
    `SELECT id, host, pid, heartbeat_at, extract(epoch FROM clock_timestamp() - heartbeat_at)::float8 AS idle
       FROM ${s}.instances WHERE heartbeat_at < clock_timestamp() - make_interval(secs => $1) ORDER BY heartbeat_at`,
    [thresholds.staleAfterSeconds],
  )
  return rows.map((r) => ({
    migration: null,
    severity: 'warning' as const,
    code: 'listener_stale',
    message: `instance ${r.id} (pid ${r.pid} on ${r.host}) last sent a heartbeat ${Math.round(r.idle)} s ago (${r.heartbeat_at.toISOString()}); it died or hangs, and is no longer counted by rollback`,
    command: `check pid ${r.pid} on ${r.host}; if it is gone, remove its row with cutover doctor --apply`,
    // Only the row of an instance still silent when --apply runs; a live process never sees its row deleted under it.
    // Through forget_stale_instance (sql/0010): each role may delete only its own instances rows, and this one may be anyone's.
    applySql: [`SELECT ${s}.forget_stale_instance(${pg.escapeLiteral(r.id)}, ${Number(thresholds.staleAfterSeconds)})`],
  }))
}

/** A live process whose LISTEN is not proven (its own notification did not come back): it polls, and says why here. */
export const listenersPollingCheck: GlobalDoctorCheck = async (db, { schema }) => {
  const s = controlSchema(schema).quoted
  // to_jsonb: a control schema older than sql/0006 has no follow_mode column.
  const { rows } = await db.query<{ id: string; host: string; pid: number }>(
    `SELECT id, host, pid FROM ${s}.instances i
      WHERE heartbeat_at > clock_timestamp() - interval '30 seconds' AND to_jsonb(i) ->> 'follow_mode' = 'poll' ORDER BY id`,
  )
  return rows.map((r) => ({
    migration: null,
    severity: 'warning' as const,
    code: 'listener_not_hearing',
    message: `instance ${r.id} (pid ${r.pid} on ${r.host}) does not hear state notifications (its own notification did not come back, as through a transaction pooler); it follows state by polling every 500 ms`,
    command: `give pid ${r.pid} on ${r.host} a direct connection for LISTEN (Cutover.connect({ listenUrl })), or Cutover.connect({ listen: false }) to poll on purpose`,
  }))
}

export const listenersBehindCheck: DoctorCheck = async (db, { schema, migration, thresholds }) => {
  const s = controlSchema(schema).quoted
  const { rows } = await db.query<{
    id: string
    host: string
    pid: number
    backend_pid: number | null
    applied: string
    version: string
    changed_at: Date
  }>(
    `SELECT i.id, i.host, i.pid, i.backend_pid, coalesce((i.applied ->> $1)::bigint, 0)::text AS applied, st.version::text AS version, st.updated_at AS changed_at
       FROM ${s}.instances i CROSS JOIN ${s}.state st
      WHERE st.migration = $1
        AND i.heartbeat_at >= clock_timestamp() - make_interval(secs => $2)
        AND coalesce((i.applied ->> $1)::bigint, 0) < st.version
        AND st.updated_at < clock_timestamp() - make_interval(secs => $2)
      ORDER BY i.id`,
    [migration.name, thresholds.staleAfterSeconds],
  )
  return rows.map((r) => ({
    migration: migration.name,
    severity: 'error' as const,
    code: 'listener_behind',
    message: `instance ${r.id} (pid ${r.pid} on ${r.host}) is alive but applied state version ${r.applied}, not ${r.version} (changed ${r.changed_at.toISOString()}); its routing is out of date`,
    command:
      r.backend_pid === null
        ? `check pid ${r.pid} on ${r.host}: it has no LISTEN connection; restart it if it does not catch up`
        : `check pid ${r.pid} on ${r.host} and its LISTEN connection (SELECT state, wait_event FROM pg_stat_activity WHERE pid = ${r.backend_pid}); restart it if it does not catch up`,
  }))
}
