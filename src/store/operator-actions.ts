/** The state-changing operator actions (advance, ramp, rollback) as library calls; the CLI calls these. */
import type pg from 'pg'
import { GateRefused } from '../core/errors.js'
import { planAdvance, planRamp, planRollback, type MigrationState, type Phase, type StatePlan } from '../core/phases.js'
import { createLogger } from '../logger.js'
import { refuseWhenRetired } from './retire/retirement.js'
import { applyStatePlan, describeBlockers, type StateLockWait } from './state/state-store.js'
import type { PoolLike } from '../db/queryable.js'
import { controlSchema } from '../db/control-schema.js'

export interface ActionOptions {
  readonly schema: string
  readonly migration: string
  readonly actor: string
  readonly reason?: string | undefined
  /** Override a gate; recorded in the event. */
  readonly force?: boolean
  /** Checks a plan's evidence inside the transaction; throws GateRefused. */
  readonly gate?: (plan: StatePlan, client: pg.PoolClient) => Promise<void>
  /** How long to wait for listening processes to acknowledge; default 1000 ms. */
  readonly ackTimeoutMs?: number
  /** Extra facts for the event row (a guardrail's bound and measured value). */
  readonly details?: Record<string, unknown>
  /**
   * The longest wait for the lock on the migration's state row (default 30 s),
   * held by another transaction; then the action fails with StateLocked (exit
   * code 3), naming the session that holds it, and changes nothing.
   */
  readonly lockWaitMs?: number
  /** Told, while the action waits for that lock, which session holds it. Default: a warning on stderr. */
  readonly onLockWait?: (wait: StateLockWait, message: string) => void
}

export interface ActionResult {
  readonly migration: string
  readonly from: { phase: Phase; readPercent: number }
  readonly to: { phase: Phase; readPercent: number }
  readonly changed: boolean
  /** Listening processes that applied the new state within the acknowledgement window. */
  readonly acknowledged: number
  /** Listening processes alive (heartbeat within 30 s). */
  readonly listeners: number
}

type Pool = PoolLike & { query: pg.Pool['query'] }

let stderrLogger: ReturnType<typeof createLogger> | undefined
/** Lock waits go to stderr unless the caller takes them: an operator must see what a rollback waits for. */
function warnOnStderr(wait: StateLockWait, message: string): void {
  stderrLogger ??= createLogger({ level: process.env.CUTOVER_LOG_LEVEL || 'warn' })
  stderrLogger.warn({ migration: wait.migration, waitedMs: wait.waitedMs, limitMs: wait.limitMs, blockingPids: wait.blockers.map((b) => b.pid) }, message)
}

async function act(pool: Pool, options: ActionOptions, makePlan: (current: MigrationState) => StatePlan, action: string, kind?: string): Promise<ActionResult> {
  const details: Record<string, unknown> = { ...options.details }
  const onLockWait = options.onLockWait ?? warnOnStderr
  const applied = await applyStatePlan(
    pool,
    options.schema,
    options.migration,
    async (current, client) => {
      // A retired migration's legacy table is renamed (its name may be the alias view): no phase change acts on it.
      await refuseWhenRetired(client, options.schema, options.migration)
      const plan = makePlan(current)
      if (!plan.isNoop && options.gate) {
        try {
          await options.gate(plan, client)
        } catch (error) {
          // --force overrides a refusal, and the event keeps what it overrode.
          if (!(error instanceof GateRefused) || !options.force) throw error
          details.overriddenGate = error.gate
          details.overriddenBecause = error.missing
        }
      }
      return plan
    },
    { actor: options.actor, reason: options.reason, forced: options.force ?? false, kind, details },
    {
      action,
      lockWaitMs: options.lockWaitMs,
      onLockWait: (wait) => onLockWait(wait,
        `${action} of ${options.migration} waits for the lock on its state row (${options.schema}.state), held by ${describeBlockers(wait.blockers)}; ` +
        `waited ${Math.round(wait.waitedMs / 1000)} s of at most ${Math.round(wait.limitMs / 1000)} s`),
    },
  )
  const { acknowledged, listeners } = await waitForAcknowledgements(pool, options.schema, options.migration, applied.to.version, options.ackTimeoutMs ?? 1000)
  const view = (s: MigrationState) => ({ phase: s.phase, readPercent: s.readPercent })
  return { migration: options.migration, from: view(applied.from), to: view(applied.to), changed: applied.changed, acknowledged, listeners }
}

/** Counts live instances that applied `version` (or later), waiting up to `timeoutMs` for all of them. */
export async function waitForAcknowledgements(pool: Pool, schema: string, migration: string, version: number, timeoutMs: number): Promise<{ acknowledged: number; listeners: number }> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { rows } = await pool.query<{ listeners: number; acknowledged: number }>(
      `SELECT count(*)::int AS listeners,
              count(*) FILTER (WHERE coalesce((applied ->> $1)::bigint, 0) >= $2)::int AS acknowledged
         FROM ${controlSchema(schema).quoted}.instances WHERE heartbeat_at > clock_timestamp() - interval '30 seconds'`,
      [migration, version],
    )
    const counts = rows[0] ?? { listeners: 0, acknowledged: 0 }
    if (counts.acknowledged >= counts.listeners || Date.now() >= deadline) return counts
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

export function advance(pool: Pool, options: ActionOptions & { to?: Phase }): Promise<ActionResult> {
  return act(pool, options, (current) => planAdvance(options.migration, current, options.to), 'advance')
}

export function ramp(pool: Pool, options: ActionOptions & { percent: number }): Promise<ActionResult> {
  return act(pool, options, (current) => planRamp(options.migration, current, options.percent), 'ramp')
}

/** Back to dual_write at 0 % with legacy authoritative; idempotent; refused only for complete. */
export function rollback(pool: Pool, options: ActionOptions & { trigger?: 'manual' | 'guardrail' }): Promise<ActionResult> {
  return act(pool, { ...options, gate: undefined }, (current) => planRollback(options.migration, current), 'rollback',
    options.trigger === 'guardrail' ? 'guardrail_rollback' : 'rollback')
}
