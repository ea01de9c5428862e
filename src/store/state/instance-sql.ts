/** The statements of a process's row in `instances`: registered, acknowledging state versions, beating, gone. */
import { controlSchema } from '../../db/control-schema.js'
import type { Statement } from '../../db/statement.js'

export function registerInstanceSql(schema: string, id: string, host: string, pid: number): Statement {
  return {
    text: `INSERT INTO ${controlSchema(schema).quoted}.instances (id, host, pid) VALUES ($1, $2, $3)`,
    values: [id, host, pid],
  }
}

export function deleteInstanceSql(schema: string, id: string): Statement {
  return { text: `DELETE FROM ${controlSchema(schema).quoted}.instances WHERE id = $1`, values: [id] }
}

/** Records that the instance applied `version` of `migration`. */
export function acknowledgeSql(schema: string, id: string, migration: string, version: number): Statement {
  return {
    text: `UPDATE ${controlSchema(schema).quoted}.instances
          SET applied = applied || jsonb_build_object($2::text, $3::bigint), heartbeat_at = clock_timestamp() WHERE id = $1`,
    values: [id, migration, version],
  }
}

/** The heartbeat with how the instance follows state (sql/0006). */
export function heartbeatSql(schema: string, id: string, backendPid: number | null, followMode: string): Statement {
  return {
    text: `UPDATE ${controlSchema(schema).quoted}.instances SET heartbeat_at = clock_timestamp(), backend_pid = $2, follow_mode = $3 WHERE id = $1`,
    values: [id, backendPid, followMode],
  }
}

/** The heartbeat on a control schema older than sql/0006 (no follow_mode). */
export function heartbeatBeforeFollowModeSql(schema: string, id: string, backendPid: number | null): Statement {
  return {
    text: `UPDATE ${controlSchema(schema).quoted}.instances SET heartbeat_at = clock_timestamp(), backend_pid = $2 WHERE id = $1`,
    values: [id, backendPid],
  }
}

/** The instance's recent routing keys per migration (sql/0004). */
export function routingSampleSql(schema: string, id: string, sample: unknown): Statement {
  return {
    text: `UPDATE ${controlSchema(schema).quoted}.instances SET routing_sample = $2::jsonb WHERE id = $1`,
    values: [id, JSON.stringify(sample)],
  }
}
