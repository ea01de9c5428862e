/** Which live application processes applied a state version: how an action says who follows it and who does not. */
import type { Queryable } from '../db/queryable.js'
import { readAcknowledgements } from '../store/state/acknowledgement-sql.js'

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

/** Counts live instances that applied `version` (or later), waiting up to `timeoutMs` for all of them. */
export function waitForAcknowledgements(
  db: Queryable,
  schema: string,
  migration: string,
  version: number,
  timeoutMs: number,
): Promise<Acknowledgements> {
  return waitForVersions(db, schema, new Map([[migration, version]]), timeoutMs)
}

/** Counts live instances that applied each migration's version (or later), a group's members say, waiting up to `timeoutMs` for all of them. */
export async function waitForVersions(
  db: Queryable,
  schema: string,
  versions: ReadonlyMap<string, number>,
  timeoutMs: number,
): Promise<Acknowledgements> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const rows = await readAcknowledgements(db, schema, versions)
    const missing = rows.filter((r) => !r.acked)
    if (missing.length === 0 || Date.now() >= deadline) {
      return {
        acknowledged: rows.length - missing.length,
        listeners: rows.length,
        unacknowledged: missing.map((r) => ({
          id: r.id,
          host: r.host,
          pid: r.pid,
          lastHeartbeat: r.heartbeat_at.toISOString(),
        })),
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** `pid 123 on app-1 (last heartbeat 2026-…Z)`, for each process that did not acknowledge. */
export function describeUnacknowledged(instances: readonly UnacknowledgedInstance[]): string {
  return instances.map((i) => `pid ${i.pid} on ${i.host} (last heartbeat ${i.lastHeartbeat})`).join(', ')
}
