/** Which live instances (heartbeat within 30 s) applied the state versions wanted, read from `instances`. */
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'

export interface AcknowledgementRow {
  id: string
  host: string
  pid: number
  heartbeat_at: Date
  acked: boolean
}

/** Every live instance, and whether it applied each migration's version in `versions` (or later). */
export async function readAcknowledgements(
  db: Queryable,
  schema: string,
  versions: ReadonlyMap<string, number>,
): Promise<AcknowledgementRow[]> {
  const { rows } = await db.query<AcknowledgementRow>(
    `SELECT id, host, pid, heartbeat_at,
            (SELECT coalesce(bool_and(coalesce((i.applied ->> w.key)::bigint, 0) >= w.value::bigint), true) FROM jsonb_each_text($1::jsonb) AS w) AS acked
       FROM ${controlSchema(schema).table('instances')} AS i WHERE heartbeat_at > clock_timestamp() - interval '30 seconds' ORDER BY host, pid`,
    [JSON.stringify(Object.fromEntries(versions))],
  )
  return rows
}
