/** Which live application processes applied a state version: how an action says who follows it and who does not. */
import { controlSchema } from '../db/control-schema.js'
import type { Queryable } from '../db/queryable.js'

/** A live process (heartbeat within 30 s) that had not applied the version when the wait ended. */
export interface UnacknowledgedInstance {
  readonly id: string
  readonly host: string
  readonly pid: number
  /** ISO time of its last heartbeat. */
  readonly lastHeartbeat: string
}

export interface Acknowledgements {
  readonly acknowledged: number
  readonly listeners: number
  readonly unacknowledged: readonly UnacknowledgedInstance[]
}

interface Row { id: string; host: string; pid: number; heartbeat_at: Date; acked: boolean }

/** Counts live instances that applied `version` (or later), waiting up to `timeoutMs` for all of them. */
export async function waitForAcknowledgements(db: Queryable, schema: string, migration: string, version: number, timeoutMs: number): Promise<Acknowledgements> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { rows } = await db.query<Row>(
      `SELECT id, host, pid, heartbeat_at, coalesce((applied ->> $1)::bigint, 0) >= $2 AS acked
         FROM ${controlSchema(schema).table('instances')} WHERE heartbeat_at > clock_timestamp() - interval '30 seconds' ORDER BY host, pid`,
      [migration, version],
    )
    const missing = rows.filter((r) => !r.acked)
    if (missing.length === 0 || Date.now() >= deadline) {
      return {
        acknowledged: rows.length - missing.length,
        listeners: rows.length,
        unacknowledged: missing.map((r) => ({ id: r.id, host: r.host, pid: r.pid, lastHeartbeat: r.heartbeat_at.toISOString() })),
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** `pid 123 on app-1 (last heartbeat 2026-…Z)`, for each process that did not acknowledge. */
export function describeUnacknowledged(instances: readonly UnacknowledgedInstance[]): string {
  return instances.map((i) => `pid ${i.pid} on ${i.host} (last heartbeat ${i.lastHeartbeat})`).join(', ')
}
