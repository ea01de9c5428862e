/**
 * A group's state change: every member's state row locked (in name order),
 * one plan made from their common state, every row written, one event for the
 * group and one NOTIFY carrying every member's new state, in one transaction.
 */
import type pg from 'pg'
import { TransitionInvalid, UnknownMigration } from '../../core/errors.js'
import { PHASES, type MigrationState, type StatePlan } from '../../core/phases.js'
import { controlSchema } from '../../db/control-schema.js'
import type { PoolLike } from '../../db/queryable.js'
import {
  DEFINITION_VERSION_SQL, definitionVersionOf, notifyState, STATE_COLUMNS, toState, withStateLock,
  type EventInput, type StateLockOptions, type StateNotice, type StateRow,
} from './state-store.js'

export interface AppliedGroupPlan {
  readonly from: MigrationState
  readonly to: MigrationState
  /** Each member's state after the change (its own version). */
  readonly members: ReadonlyMap<string, MigrationState>
  readonly changed: boolean
  readonly eventId: string | undefined
}

/** A group's state: its members' common phase and percentage (they only ever move together). */
function commonState(group: string, states: ReadonlyMap<string, MigrationState>, kind: string): MigrationState {
  const all = [...states.values()]
  const first = all[0] as MigrationState
  const differ = all.some((s) => s.phase !== first.phase || s.readPercent !== first.readPercent)
  // Only a rollback may bring members that disagree (written before they were grouped) back together.
  if (differ && kind !== 'rollback') {
    const shown = [...states].map(([m, s]) => `${m} ${s.phase}${s.phase === 'ramp' ? ` ${s.readPercent}%` : ''}`).join(', ')
    throw new TransitionInvalid(group, `the members of the group are in different states (${shown}); bring them together first with: cutover rollback ${group}`)
  }
  // Members that disagree are rolled back from the furthest along of them (complete refuses, as it should).
  const furthest = all.reduce((a, b) => (PHASES.indexOf(b.phase) > PHASES.indexOf(a.phase) ? b : a))
  // The version of a group's state is the highest of its members'.
  return { ...furthest, version: Math.max(...all.map((s) => s.version)) }
}

/**
 * Applies `replan`'s plan to every member of `group`. `check(plan, client)`
 * runs after the plan is made and before anything is written (the gates of
 * every member); it may throw to refuse.
 */
export async function applyGroupPlan(
  pool: PoolLike,
  schema: string,
  group: string,
  members: readonly string[],
  replan: (current: MigrationState, client: pg.PoolClient) => Promise<StatePlan> | StatePlan,
  event: EventInput,
  lock: StateLockOptions = {},
): Promise<AppliedGroupPlan> {
  const action = lock.action ?? event.kind ?? 'state change'
  return withStateLock(pool, group, action, lock, async (client) => {
    const control = controlSchema(schema)
    const { rows } = await client.query<StateRow>(
      `SELECT ${STATE_COLUMNS} FROM ${control.table('state')} WHERE migration = ANY ($1::text[]) ORDER BY migration FOR UPDATE`, [members])
    const states = new Map(rows.map((r) => [r.migration, toState(r)]))
    const missing = members.find((m) => !states.has(m))
    if (missing !== undefined) throw new UnknownMigration(missing)
    const current = commonState(group, states, event.kind ?? action)
    const plan = await replan(current, client)
    const differ = [...states.values()].some((s) => s.phase !== plan.to.phase || s.readPercent !== plan.to.readPercent)
    if (!differ) return { from: current, to: current, members: states, changed: false, eventId: undefined }
    const { rows: updated } = await client.query<StateRow & { changed_at_ms: string; definition_version: string | null }>(
      `UPDATE ${control.table('state')} AS st SET phase = $2, read_percent = $3::smallint, authority = $4, version = version + 1,
              full_reads_since = CASE WHEN $3::smallint = 100 THEN coalesce(CASE WHEN read_percent = 100 THEN full_reads_since END, clock_timestamp()) END,
              updated_at = clock_timestamp(), updated_by = $5
        WHERE migration = ANY ($1::text[])
        RETURNING ${STATE_COLUMNS}, (extract(epoch from clock_timestamp()) * 1000)::bigint::text AS changed_at_ms,
                  ${DEFINITION_VERSION_SQL('st')} AS definition_version`,
      [members, plan.to.phase, plan.to.readPercent, plan.to.authority, event.actor],
    )
    const notices: StateNotice[] = updated.map((row) => ({
      migration: row.migration, ...toState(row), changedAtMs: Number(row.changed_at_ms), ...definitionVersionOf(row.definition_version),
    }))
    const after = new Map(notices.map((n) => [n.migration, toState({ migration: n.migration, phase: n.phase, read_percent: n.readPercent, authority: n.authority, version: String(n.version) })]))
    const to = commonState(group, after, event.kind ?? action)
    const { rows: inserted } = await client.query<{ id: string }>(
      `INSERT INTO ${control.table('events')} (migration, group_name, actor, kind, reason, from_phase, from_percent, to_phase, to_percent, forced, details)
       VALUES (NULL, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb) RETURNING id::text`,
      [group, event.actor, event.kind ?? plan.kind, event.reason ?? null, current.phase, current.readPercent, to.phase, to.readPercent,
        event.forced ?? false, JSON.stringify({ ...event.details, members })],
    )
    await notifyState(client, schema, { group, members: notices })
    return { from: current, to, members: after, changed: true, eventId: inserted[0]?.id }
  })
}
