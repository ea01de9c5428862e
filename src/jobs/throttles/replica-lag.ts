/** The replay lag of a primary's streaming replicas, as the primary sees it in pg_stat_replication. */
import { PermissionDenied } from '../../core/errors.js'
import type { Queryable } from '../../db/queryable.js'

/** One replica's lag: its `application_name` (the standby's `cluster_name`, or `walreceiver`) and seconds behind. */
export interface ReplicaLag {
  readonly replica: string
  readonly seconds: number
}

// replay_lag keeps growing while a standby's replay is stuck and its walreceiver still reports (PostgreSQL
// interpolates from the WAL it has sent since), and is NULL once a standby has caught up and gone idle.
const REPLICA_LAGS = `SELECT application_name, state, coalesce(extract(epoch FROM replay_lag), 0)::float8 AS seconds
  FROM pg_stat_replication ORDER BY replay_lag DESC NULLS LAST, application_name`

/**
 * Every streaming replica's lag, largest first (none: no replica). A role
 * without pg_monitor sees the rows with their columns hidden, which would read
 * as no lag at all: that is refused, naming the grant.
 */
export async function readReplicaLags(db: Queryable): Promise<ReplicaLag[]> {
  const { rows } = await db.query<{ application_name: string | null; state: string | null; seconds: number }>(
    REPLICA_LAGS,
  )
  if (rows.some((r) => r.state === null)) {
    throw new PermissionDenied(
      'pg_stat_replication',
      'GRANT pg_monitor TO <the role the backfill runs as>',
      "the replicas' lag is hidden from this role, so a replica-lag throttle cannot see it",
    )
  }
  return rows.map((r) => ({ replica: r.application_name || 'unnamed replica', seconds: r.seconds }))
}
