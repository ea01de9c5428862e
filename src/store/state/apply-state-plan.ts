/**
 * A state change of a target (a migration, or a group's members): every
 * member's state row locked (in name order), one plan made from their common
 * state, every row written, one event and one NOTIFY, in one transaction.
 */
import type pg from 'pg'
import { TransitionInvalid, UnknownMigration } from '../../core/errors.js'
import { PHASES, type MigrationState, type StatePlan } from '../../core/phases.js'
import { migrationTarget, type Target } from '../../core/target.js'
import { controlSchema } from '../../db/control-schema.js'
import type { PoolLike } from '../../db/queryable.js'
import { notifyState, targetNotice, type StateNotice } from './state-notice.js'
import { DEFINITION_VERSION_SQL, definitionVersionOf, STATE_COLUMNS, toState, type StateRow } from './state-row.js'
import { withStateLock, type StateLockOptions } from './with-state-lock.js'

export interface EventInput {
  readonly actor: string
  readonly reason?: string | undefined
  readonly forced?: boolean
  readonly details?: Record<string, unknown>
  /** Event kind; default the plan's kind. */
  readonly kind?: string
}

export interface AppliedPlan {
  readonly from: MigrationState
  readonly to: MigrationState
  /** Each member's state after the change (its own version). */
  readonly members: ReadonlyMap<string, MigrationState>
  readonly changed: boolean
  readonly eventId: string | undefined
}

/** A target's state: its members' common phase and percentage (they only ever move together). */
function commonState(target: Target, states: ReadonlyMap<string, MigrationState>, kind: string): MigrationState {
  const all = [...states.values()]
  const first = all[0] as MigrationState
  const differ = all.some((s) => s.phase !== first.phase || s.readPercent !== first.readPercent)
  // Only a rollback may bring members that disagree (written before they were grouped) back together.
  if (differ && kind !== 'rollback') {
    const shown = [...states]
      .map(([m, s]) => `${m} ${s.phase}${s.phase === 'ramp' ? ` ${s.readPercent}%` : ''}`)
      .join(', ')
    throw new TransitionInvalid(
      target.name,
      `the members of the group are in different states (${shown}); bring them together first with: cutover rollback ${target.name}`,
    )
  }
  // Members that disagree are rolled back from the furthest along of them (complete refuses, as it should).
  const furthest = all.reduce((a, b) => (PHASES.indexOf(b.phase) > PHASES.indexOf(a.phase) ? b : a))
  // The version of a target's state is the highest of its members'.
  return { ...furthest, version: Math.max(...all.map((s) => s.version)) }
}

/**
 * Applies a plan made from a state read earlier to every member of `target`
 * (a name alone is a migration). The rows are locked and the plan re-made from
 * the locked state by `replan` (which may also judge gates and throw to
 * refuse), so two concurrent changes serialise and each sees the other's
 * result. The lock wait is bounded as withStateLock says.
 */
export async function applyStatePlan(
  pool: PoolLike,
  schema: string,
  target: Target | string,
  replan: (current: MigrationState, client: pg.PoolClient) => Promise<StatePlan> | StatePlan,
  event: EventInput,
  lock: StateLockOptions = {},
): Promise<AppliedPlan> {
  const t = typeof target === 'string' ? migrationTarget(target) : target
  const action = lock.action ?? event.kind ?? 'state change'
  return withStateLock(pool, t.name, action, lock, async (client) => {
    const control = controlSchema(schema)
    const { rows } = await client.query<StateRow>(
      `SELECT ${STATE_COLUMNS} FROM ${control.table('state')} WHERE migration = ANY ($1::text[]) ORDER BY migration FOR UPDATE`,
      [t.members],
    )
    const states = new Map(rows.map((r) => [r.migration, toState(r)]))
    const missing = t.members.find((m) => !states.has(m))
    if (missing !== undefined) throw new UnknownMigration(missing)
    const current = commonState(t, states, event.kind ?? action)
    const plan = await replan(current, client)
    const differ = [...states.values()].some((s) => s.phase !== plan.to.phase || s.readPercent !== plan.to.readPercent)
    if (!differ) return { from: current, to: current, members: states, changed: false, eventId: undefined }
    const { rows: updated } = await client.query<
      StateRow & { changed_at_ms: string; definition_version: string | null }
    >(
      `UPDATE ${control.table('state')} AS st SET phase = $2, read_percent = $3::smallint, authority = $4, version = version + 1,
              full_reads_since = CASE WHEN $3::smallint = 100 THEN coalesce(CASE WHEN read_percent = 100 THEN full_reads_since END, clock_timestamp()) END,
              updated_at = clock_timestamp(), updated_by = $5
        WHERE migration = ANY ($1::text[])
        RETURNING ${STATE_COLUMNS}, (extract(epoch from clock_timestamp()) * 1000)::bigint::text AS changed_at_ms,
                  ${DEFINITION_VERSION_SQL('st')} AS definition_version`,
      [t.members, plan.to.phase, plan.to.readPercent, plan.to.authority, event.actor],
    )
    const notices: StateNotice[] = updated.map((row) => ({
      migration: row.migration,
      ...toState(row),
      changedAtMs: Number(row.changed_at_ms),
      ...definitionVersionOf(row.definition_version),
    }))
    const after = new Map(updated.map((row) => [row.migration, toState(row)]))
    const to = commonState(t, after, event.kind ?? action)
    const eventId = await control.insertEvent(client, {
      // A group's change is one event for the group (migration null), its members in the details.
      migration: t.group === undefined ? t.name : null,
      group: t.group,
      actor: event.actor,
      kind: event.kind ?? plan.kind,
      reason: event.reason,
      from: { phase: current.phase, percent: current.readPercent },
      to: { phase: to.phase, percent: to.readPercent },
      forced: event.forced,
      details: t.group === undefined ? event.details : { ...event.details, members: t.members },
    })
    await notifyState(client, schema, targetNotice(t, notices))
    return { from: current, to, members: after, changed: true, eventId }
  })
}
