/** Reads migration state and applies state plans: one transaction writes the state, its event, and the NOTIFY. */
import type pg from 'pg'
import { withTransaction } from '../../db/with-transaction.js'
import { CutoverError, UnknownMigration } from '../../core/errors.js'
import { isPhase, type MigrationState, type StatePlan } from '../../core/phases.js'
import { isLockWait } from '../../db/pg-errors.js'
import type { PoolLike, Queryable } from '../../db/queryable.js'
import { controlSchema } from '../../db/control-schema.js'

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

/**
 * The definition version of a state row, read so that a control schema older
 * than sql/0005 still works (the column is then absent: null).
 */
export const DEFINITION_VERSION_SQL = (alias: string): string => `(to_jsonb(${alias}) ->> 'definition_version')`

export interface StateRow { migration: string; phase: string; read_percent: number; authority: string; version: string }

export function toState(row: StateRow): MigrationState {
  if (!isPhase(row.phase)) throw new Error(`control schema holds unknown phase ${row.phase}`)
  return { phase: row.phase, readPercent: row.read_percent, authority: row.authority === 'shadow' ? 'shadow' : 'legacy', version: Number(row.version) }
}

export const STATE_COLUMNS = 'migration, phase, read_percent, authority, version::text AS version'

export async function readAllStates(db: Queryable, schema: string): Promise<Map<string, MigrationState>> {
  const { rows } = await db.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM ${controlSchema(schema).quoted}.state`)
  return new Map(rows.map((r) => [r.migration, toState(r)]))
}

export async function readState(db: Queryable, schema: string, migration: string): Promise<MigrationState> {
  const { rows } = await db.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM ${controlSchema(schema).quoted}.state WHERE migration = $1`, [migration])
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

/** A session holding a lock that a state change waits for, as pg_stat_activity shows it. */
export interface BlockingSession {
  readonly pid: number
  readonly application: string
  readonly user: string
  /** `active`, `idle in transaction`, … (empty when the role may not see it). */
  readonly state: string
  /** Age of its open transaction; null when not visible. */
  readonly transactionSeconds: number | null
  /** Its last statement, cut to 200 characters (empty when the role may not see it). */
  readonly query: string
}

/** Reported while a state change waits for a lock. */
export interface StateLockWait {
  readonly migration: string
  readonly waitedMs: number
  readonly limitMs: number
  readonly blockers: readonly BlockingSession[]
}

/** `pid 123 (psql, user alice, idle in transaction for 12 s, last query: …)`. */
export function describeBlockers(blockers: readonly BlockingSession[]): string {
  if (blockers.length === 0) return 'another session (it could not be identified)'
  return blockers.map((b) => {
    const facts = [b.application || 'no application name', b.user ? `user ${b.user}` : '',
      b.state ? `${b.state}${b.transactionSeconds === null ? '' : ` for ${Math.round(b.transactionSeconds)} s`}` : '',
      b.query ? `last query: ${b.query.replace(/\s+/g, ' ').trim()}` : ''].filter(Boolean)
    return `pid ${b.pid} (${facts.join(', ')})`
  }).join(' and ')
}

/** A state change could not lock the state row (or its event table) within its bound; exit code 3, the state unchanged. */
export class StateLocked extends CutoverError {
  readonly exitCode = 3
  constructor(readonly migration: string, readonly action: string, readonly limitMs: number, readonly blockers: readonly BlockingSession[], options?: { cause?: unknown }) {
    const pids = blockers.map((b) => b.pid)
    super(`${action} of ${migration} could not lock its state row within ${Math.round(limitMs / 1000)} s: it is held by ${describeBlockers(blockers)}; nothing changed. ` +
      `End that transaction${pids.length ? ` (SELECT pg_terminate_backend(${pids.join('), pg_terminate_backend(')}))` : ''} or wait for it, then run the ${action} again`, options)
  }
}

export interface StateLockOptions {
  /** What the change is called in messages (`rollback`, `ramp`); default the event's kind. */
  readonly action?: string
  /** The longest a state change waits for a lock (default 30 s), then fails with StateLocked. */
  readonly lockWaitMs?: number
  /** Called once the change has waited about half a second, then whenever the blockers change and every 5 s. */
  readonly onLockWait?: (wait: StateLockWait) => void
}

export const DEFAULT_STATE_LOCK_WAIT_MS = 30_000

const BLOCKERS_SQL = `SELECT a.pid, coalesce(a.application_name, '') AS application, coalesce(a.usename::text, '') AS "user",
    coalesce(a.state, '') AS state, extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS transaction_seconds,
    left(coalesce(a.query, ''), 200) AS query
  FROM pg_stat_activity AS a WHERE a.pid = ANY (pg_blocking_pids($1)) ORDER BY a.pid`

interface BlockerRow { pid: number; application: string; user: string; state: string; transaction_seconds: number | null; query: string }

/**
 * Watches, from a second connection of the pool, which sessions block the
 * backend `pid`: first after `firstMs`, then every second, reporting when the
 * blockers change and every 5 s. It never delays the waiting statement: with
 * no spare connection it just learns nothing.
 */
function watchBlockers(pool: PoolLike, pid: number, report: (blockers: readonly BlockingSession[], waitedMs: number) => void, firstMs = 500) {
  const started = Date.now()
  let last: readonly BlockingSession[] = []
  let lastReportAt = 0
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const look = async (): Promise<void> => {
    const client = await pool.connect()
    const onError = (): void => undefined
    client.on('error', onError)
    try {
      if (stopped) return
      const { rows } = await client.query<BlockerRow>(BLOCKERS_SQL, [pid])
      if (stopped || rows.length === 0) return
      const blockers = rows.map((r) => ({ pid: r.pid, application: r.application, user: r.user, state: r.state, transactionSeconds: r.transaction_seconds, query: r.query }))
      const isNew = blockers.map((b) => b.pid).join() !== last.map((b) => b.pid).join()
      last = blockers
      if (isNew || Date.now() - lastReportAt >= 5000) {
        lastReportAt = Date.now()
        report(blockers, Date.now() - started)
      }
    } finally {
      client.removeListener('error', onError)
      client.release()
    }
  }
  const tick = (): void => {
    void look().catch(() => undefined).finally(() => { if (!stopped) timer = setTimeout(tick, 1000) })
  }
  timer = setTimeout(tick, firstMs)
  return {
    /** The blockers last seen (empty when never seen). */
    blockers: (): readonly BlockingSession[] => last,
    stop: (): void => { stopped = true; clearTimeout(timer) },
  }
}

/**
 * Applies a plan made from a state read earlier. The row is locked and the
 * plan re-made from the locked state by `replan`, so two concurrent changes
 * serialise and each sees the other's result.
 *
 * A long transaction holding the state row (an open psql session, a hung
 * process) must not make the change fail at once, nor hang it forever: the
 * change keeps its place in the lock queue, says every few seconds which
 * session it waits for, and after `lockWaitMs` gives up with StateLocked,
 * naming that session. A deadlock or serialization failure is retried within
 * the same bound. Nothing the application writes waits behind this queue:
 * only state changes lock the state row.
 */
export async function applyStatePlan(
  pool: PoolLike,
  schema: string,
  migration: string,
  replan: (current: MigrationState, client: pg.PoolClient) => Promise<StatePlan> | StatePlan,
  event: EventInput,
  lock: StateLockOptions = {},
): Promise<AppliedPlan> {
  return withStateLock(pool, migration, lock.action ?? event.kind ?? 'state change', lock, (client) => applyLocked(client, schema, migration, replan, event))
}

/**
 * Runs `body` in a transaction whose lock waits are bounded by `lockWaitMs`
 * (retried within it), reporting the blocking sessions while it waits; past
 * the bound it fails with StateLocked naming `subject` (a migration or a group).
 */
export async function withStateLock<T>(pool: PoolLike, subject: string, action: string, lock: StateLockOptions, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const limitMs = lock.lockWaitMs ?? DEFAULT_STATE_LOCK_WAIT_MS
  const deadline = Date.now() + limitMs
  for (;;) {
    let watch: ReturnType<typeof watchBlockers> | undefined
    try {
      return await withTransaction(pool, async (client) => {
        const { rows: me } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid, set_config('lock_timeout', $1, true)", [`${Math.max(1, deadline - Date.now())}ms`])
        watch = watchBlockers(pool, me[0]?.pid ?? 0, (blockers, waitedMs) => lock.onLockWait?.({ migration: subject, waitedMs, limitMs, blockers }))
        return await body(client)
      })
    } catch (error) {
      if (!isLockWait(error)) throw error
      if (Date.now() >= deadline - 50) throw new StateLocked(subject, action, limitMs, watch?.blockers() ?? [], { cause: error })
    } finally {
      watch?.stop()
    }
  }
}

async function applyLocked(
  client: pg.PoolClient,
  schema: string,
  migration: string,
  replan: (current: MigrationState, client: pg.PoolClient) => Promise<StatePlan> | StatePlan,
  event: EventInput,
): Promise<AppliedPlan> {
  const s = controlSchema(schema).quoted
  const { rows } = await client.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM ${s}.state WHERE migration = $1 FOR UPDATE`, [migration])
  if (!rows[0]) throw new UnknownMigration(migration)
  const current = toState(rows[0])
  const plan = await replan(current, client)
  if (plan.isNoop) return { from: current, to: current, changed: false, eventId: undefined }
  const { rows: updated } = await client.query<StateRow & { changed_at_ms: string; definition_version: string | null }>(
    `UPDATE ${s}.state AS st SET phase = $2, read_percent = $3::smallint, authority = $4, version = version + 1,
            full_reads_since = CASE WHEN $3::smallint = 100 THEN coalesce(CASE WHEN read_percent = 100 THEN full_reads_since END, clock_timestamp()) END,
            updated_at = clock_timestamp(), updated_by = $5
      WHERE migration = $1
      RETURNING ${STATE_COLUMNS}, (extract(epoch from clock_timestamp()) * 1000)::bigint::text AS changed_at_ms,
                ${DEFINITION_VERSION_SQL('st')} AS definition_version`,
    [migration, plan.to.phase, plan.to.readPercent, plan.to.authority, event.actor],
  )
  const row = updated[0] as StateRow & { changed_at_ms: string; definition_version: string | null }
  const next = toState(row)
  const eventId = await controlSchema(schema).insertEvent(client, {
    migration, actor: event.actor, kind: event.kind ?? plan.kind, reason: event.reason,
    from: { phase: current.phase, percent: current.readPercent }, to: { phase: next.phase, percent: next.readPercent },
    forced: event.forced, details: event.details,
  })
  await notifyState(client, schema, { migration, ...next, changedAtMs: Number(row.changed_at_ms), ...definitionVersionOf(row.definition_version) })
  return { from: current, to: next, changed: true, eventId }
}

export function definitionVersionOf(text: string | null): { definitionVersion?: number } {
  return text === null ? {} : { definitionVersion: Number(text) }
}

/** Tells every listening process, at commit, about a state row (its phase, percentage, version and definition version). */
export async function notifyState(client: pg.ClientBase, schema: string, notice: StateNotice | GroupNotice): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', [stateChannel(schema), JSON.stringify(notice)])
}

/**
 * A changed definition (register): bumps the definition version and the state
 * version in the caller's transaction and notifies, so running processes reload
 * the definition and acknowledge the new state version as they do a phase change.
 */
export async function bumpDefinitionVersion(client: pg.ClientBase, schema: string, migration: string, actor: string): Promise<{ state: MigrationState; definitionVersion: number }> {
  const { rows } = await client.query<StateRow & { changed_at_ms: string; definition_version: string }>(
    `UPDATE ${controlSchema(schema).quoted}.state SET definition_version = definition_version + 1, version = version + 1,
            updated_at = clock_timestamp(), updated_by = $2
      WHERE migration = $1
      RETURNING ${STATE_COLUMNS}, (extract(epoch from clock_timestamp()) * 1000)::bigint::text AS changed_at_ms, definition_version::text AS definition_version`,
    [migration, actor],
  )
  if (!rows[0]) throw new UnknownMigration(migration)
  const state = toState(rows[0])
  const definitionVersion = Number(rows[0].definition_version)
  await notifyState(client, schema, { migration, ...state, changedAtMs: Number(rows[0].changed_at_ms), definitionVersion })
  return { state, definitionVersion }
}
