/**
 * Check 6: a transaction, open longer than the limit, holding a lock on the
 * legacy or the shadow table. The suggested fix is text only; doctor never
 * terminates a backend. Sessions of other roles are visible only to a role
 * with pg_read_all_stats (or pg_monitor).
 */
import type { DoctorCheck } from './finding.js'

interface Row {
  pid: number
  usename: string | null
  application_name: string | null
  state: string | null
  xact_start: Date
  query_start: Date | null
  age: number
  locks: string
  blocking: boolean
}

export const longTransactionsCheck: DoctorCheck = async (db, { migration, thresholds }) => {
  const { rows } = await db.query<Row>(
    `SELECT a.pid, a.usename::text AS usename, a.application_name, a.state, a.xact_start, a.query_start,
            extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS age,
            string_agg(DISTINCT l.relation::regclass::text || ' ' || l.mode, ', ') AS locks,
            EXISTS (SELECT 1 FROM pg_stat_activity w WHERE a.pid = ANY (pg_blocking_pids(w.pid))) AS blocking
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.granted AND l.locktype = 'relation' AND l.relation IN ($1::oid, $2::oid)
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND a.pid <> pg_backend_pid()
        AND a.xact_start < clock_timestamp() - make_interval(secs => $3)
      GROUP BY a.pid, a.usename, a.application_name, a.state, a.xact_start, a.query_start
      ORDER BY a.xact_start`,
    [migration.legacyOid, migration.shadowOid, thresholds.lockAgeSeconds],
  )
  return rows.map((r) => ({
    migration: migration.name,
    severity: r.blocking ? ('error' as const) : ('warning' as const),
    code: 'long_transaction',
    message: `pid ${r.pid} (${r.usename ?? '?'}${r.application_name ? `, ${r.application_name}` : ''}) has held ${r.locks} for ${Math.round(r.age)} s, state ${r.state ?? 'unknown'}, last query started ${r.query_start?.toISOString() ?? 'unknown'}${r.blocking ? '; other sessions wait on it' : ''}`,
    command: `SELECT pg_terminate_backend(${r.pid})`,
  }))
}
