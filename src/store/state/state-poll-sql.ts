/** The statements a process polls state with: every state row, and one small digest of them all. */
import { controlSchema } from '../../db/control-schema.js'
import type { Statement } from '../../db/statement.js'
import { DEFINITION_VERSION_SQL } from './state-row.js'

export interface PolledRow {
  migration: string
  phase: string
  read_percent: number
  authority: string
  version: string
  changed_ms: string
  definition_version: string | null
}

/** Every state row, with when it changed and its definition version. */
export function pollStatesSql(schema: string): Statement {
  return {
    text: `SELECT migration, phase, read_percent, authority, version::text AS version,
              (extract(epoch from updated_at) * 1000)::bigint::text AS changed_ms, ${DEFINITION_VERSION_SQL('st')} AS definition_version
         FROM ${controlSchema(schema).quoted}.state st`,
    values: [],
  }
}

/** One row, a digest of every state row: what a fleet of polling processes costs. */
export function stateDigestSql(schema: string): Statement {
  return {
    text: `SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY s.migration), '')) AS digest FROM ${controlSchema(schema).quoted}.state s`,
    values: [],
  }
}

/** A NOTIFY sent from the pool (the listener's proof that it hears). */
export function notifySql(channel: string, payload: string): Statement {
  return { text: 'SELECT pg_notify($1, $2)', values: [channel, payload] }
}
