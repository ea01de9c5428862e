/** Reads migration state and applies state plans: one transaction writes the state, its event, and the NOTIFY. */
import type pg from 'pg'
import { UnknownMigration } from '../core/errors.js'
import { quoteIdent } from '../core/identifiers.js'
import { isPhase, type MigrationState, type StatePlan } from '../core/phases.js'
import { withTransaction, type PoolLike } from './transaction.js'

/** The NOTIFY channel of a control schema. */
export function stateChannel(schema: string): string {
  return `cutover_state:${schema}`
}

/** What a state NOTIFY carries: enough to apply without a query. */
export interface StateNotice extends MigrationState {
  readonly migration: string
  /** Commit-side clock (epoch ms) when the change was written, to measure propagation. */
  readonly changedAtMs: number
}

interface StateRow { migration: string; phase: string; read_percent: number; authority: string; version: string }

function toState(row: StateRow): MigrationState {
  if (!isPhase(row.phase)) throw new Error(`control schema holds unknown phase ${row.phase}`)
  return { phase: row.phase, readPercent: row.read_percent, authority: row.authority === 'shadow' ? 'shadow' : 'legacy', version: Number(row.version) }
}

const STATE_COLUMNS = 'migration, phase, read_percent, authority, version::text AS version'

export async function readAllStates(db: { query: pg.ClientBase['query'] }, schema: string): Promise<Map<string, MigrationState>> {
  const { rows } = await db.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM ${quoteIdent(schema)}.state`)
  return new Map(rows.map((r) => [r.migration, toState(r)]))
}

export async function readState(db: { query: pg.ClientBase['query'] }, schema: string, migration: string): Promise<MigrationState> {
  const { rows } = await db.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM ${quoteIdent(schema)}.state WHERE migration = $1`, [migration])
  if (!rows[0]) throw new UnknownMigration(migration)
  return toState(rows[0])
}

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
  readonly changed: boolean
  readonly eventId: string | undefined
}

/**
 * Applies a plan made from a state read earlier. The row is locked and the
 * plan re-made from the locked state by `replan`, so two concurrent changes
 * serialise and each sees the other's result.
 */
export async function applyStatePlan(
  pool: PoolLike,
  schema: string,
  migration: string,
  replan: (current: MigrationState, client: pg.PoolClient) => Promise<StatePlan> | StatePlan,
  event: EventInput,
): Promise<AppliedPlan> {
  const s = quoteIdent(schema)
  return withTransaction(pool, async (client) => {
    await client.query("SET LOCAL lock_timeout = '5s'")
    const { rows } = await client.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM ${s}.state WHERE migration = $1 FOR UPDATE`, [migration])
    if (!rows[0]) throw new UnknownMigration(migration)
    const current = toState(rows[0])
    const plan = await replan(current, client)
    if (plan.isNoop) return { from: current, to: current, changed: false, eventId: undefined }
    const { rows: updated } = await client.query<StateRow & { changed_at_ms: string }>(
      `UPDATE ${s}.state SET phase = $2, read_percent = $3::smallint, authority = $4, version = version + 1,
              full_reads_since = CASE WHEN $3::smallint = 100 THEN coalesce(CASE WHEN read_percent = 100 THEN full_reads_since END, clock_timestamp()) END,
              updated_at = clock_timestamp(), updated_by = $5
        WHERE migration = $1
        RETURNING ${STATE_COLUMNS}, (extract(epoch from clock_timestamp()) * 1000)::bigint::text AS changed_at_ms`,
      [migration, plan.to.phase, plan.to.readPercent, plan.to.authority, event.actor],
    )
    const row = updated[0] as StateRow & { changed_at_ms: string }
    const next = toState(row)
    const { rows: ev } = await client.query<{ id: string }>(
      `INSERT INTO ${s}.events (migration, actor, kind, reason, from_phase, from_percent, to_phase, to_percent, forced, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id::text`,
      [migration, event.actor, event.kind ?? plan.kind, event.reason ?? null, current.phase, current.readPercent, next.phase, next.readPercent,
        event.forced ?? false, JSON.stringify(event.details ?? {})],
    )
    const notice: StateNotice = { migration, ...next, changedAtMs: Number(row.changed_at_ms) }
    await client.query('SELECT pg_notify($1, $2)', [stateChannel(schema), JSON.stringify(notice)])
    return { from: current, to: next, changed: true, eventId: ev[0]?.id }
  })
}
