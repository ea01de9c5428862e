/** What a state NOTIFY carries, on which channel, and sending it. */
import type pg from 'pg'
import type { MigrationState } from '../../core/phases.js'
import type { Target } from '../../core/target.js'

/** The NOTIFY channel of a control schema. */
export function stateChannel(schema: string): string {
  return `cutover_state:${schema}`
}

/** What a state NOTIFY carries: enough to apply without a query. */
export interface StateNotice extends MigrationState {
  readonly migration: string
  /** Commit-side clock (epoch ms) when the change was written, to measure propagation. */
  readonly changedAtMs: number
  /** The version of the migration's definition (sql/0005); a process that loaded an older one reloads it. */
  readonly definitionVersion?: number
}

/** What a group's state NOTIFY carries: every member's new state, applied by a process in one step. */
export interface GroupNotice {
  readonly group: string
  readonly members: readonly StateNotice[]
}

/** The notice of a target's change: a migration's own state, or a group's with every member's. */
export function targetNotice(target: Target, notices: readonly StateNotice[]): StateNotice | GroupNotice {
  return target.group === undefined ? (notices[0] as StateNotice) : { group: target.group, members: notices }
}

/** Tells every listening process, at commit, about a state row (its phase, percentage, version and definition version). */
export async function notifyState(
  client: pg.ClientBase,
  schema: string,
  notice: StateNotice | GroupNotice,
): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', [stateChannel(schema), JSON.stringify(notice)])
}
