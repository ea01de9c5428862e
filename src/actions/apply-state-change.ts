/**
 * The one path of every phase change (advance, ramp, rollback, a guardrail's
 * rollback): in one transaction it locks the state row, makes the plan, judges
 * the evidence gates and the confirmation of complete, writes the state and its
 * event (with what `force` overrode) and notifies; then it waits for the
 * running processes to acknowledge.
 */
import type pg from 'pg'
import { checkConfirmation } from '../core/gates.js'
import { GateRefused, PhaseSkipped } from '../core/errors.js'
import { planAdvance, type MigrationState, type StatePlan } from '../core/phases.js'
import { createLogger } from '../logger.js'
import { refuseWhenRetired } from '../store/retire/retirement.js'
import { applyStatePlan, describeBlockers, type StateLockWait } from '../store/state/state-store.js'
import type { PoolLike } from '../db/queryable.js'
import { waitForAcknowledgements } from './acknowledgements.js'
import type { ActionOptions, ActionResult } from './action-options.js'
import { checkEvidenceGates } from './migration-gate.js'
import { applyGroupChange } from './apply-group-change.js'
import { groupMembers, refuseMemberAlone } from '../store/groups/group-target.js'
import { moveToShadowAuthority } from './authority-move.js'

export type Pool = PoolLike & { query: pg.Pool['query'] }

export interface StateChange {
  /** What the change is called in messages and events (`advance`, `ramp`, `rollback`). */
  readonly action: string
  /** Event kind; default the plan's kind. */
  readonly kind?: string
  readonly makePlan: (current: MigrationState) => StatePlan
  /** False for rollback: going back needs no evidence. */
  readonly isGated: boolean
  /** `confirm` for complete. */
  readonly confirmed?: boolean
  /** The command's words after the name (` 25`, ` --to shadow_read`), for the command a refusal suggests. */
  readonly commandArgs?: string
}

let stderrLogger: ReturnType<typeof createLogger> | undefined
/** Lock waits go to stderr unless the caller takes them: an operator must see what a rollback waits for. */
export function warnOnStderr(wait: StateLockWait, message: string): void {
  stderrLogger ??= createLogger({ level: process.env.CUTOVER_LOG_LEVEL || 'warn' })
  stderrLogger.warn({ migration: wait.migration, waitedMs: wait.waitedMs, limitMs: wait.limitMs, blockingPids: wait.blockers.map((b) => b.pid) }, message)
}

/** A skipped phase: when the next phase's own gate refuses now, say that (its command is the one that works). */
async function explainSkip(client: pg.ClientBase, options: ActionOptions, current: MigrationState, skipped: PhaseSkipped): Promise<never> {
  try {
    await checkEvidenceGates(client, options.schema, options.migration, planAdvance(options.migration, current))
  } catch (error) {
    if (error instanceof GateRefused) throw new PhaseSkipped(options.migration, skipped.from, skipped.target, skipped.next, `${error.missing}; ${error.next}`)
    throw error
  }
  throw skipped
}

export async function applyStateChange(pool: Pool, options: ActionOptions, change: StateChange): Promise<ActionResult> {
  const members = await groupMembers(pool, options.schema, options.migration)
  if (members) return applyGroupChange(pool, options, change, members)
  const details: Record<string, unknown> = { ...options.details }
  const onLockWait = options.onLockWait ?? warnOnStderr
  const forced = options.force ?? false
  let overriddenGate: string | undefined
  const applied = await applyStatePlan(
    pool,
    options.schema,
    options.migration,
    async (current, client) => {
      // A retired migration's legacy table is renamed (its name may be the alias view): no phase change acts on it.
      await refuseWhenRetired(client, options.schema, options.migration)
      // A group's member moves with its group only, in the same transaction as its members.
      await refuseMemberAlone(client, options.schema, options.migration, change.action, change.commandArgs ?? '')
      let plan: StatePlan
      try {
        plan = change.makePlan(current)
      } catch (error) {
        if (error instanceof PhaseSkipped) await explainSkip(client, options, current, error)
        throw error
      }
      if (plan.isNoop || !change.isGated) return plan
      try {
        await checkEvidenceGates(client, options.schema, options.migration, plan)
      } catch (error) {
        // force overrides an evidence gate, and the event keeps what it overrode.
        if (!(error instanceof GateRefused) || !forced) throw error
        overriddenGate = error.gate
        details.overriddenGate = error.gate
        details.overriddenBecause = error.missing
      }
      checkConfirmation(plan, { migration: options.migration, confirmed: change.confirmed ?? false, forced })
      await moveToShadowAuthority(client, options.schema, options.migration, plan, details)
      return plan
    },
    { actor: options.actor, reason: options.reason, forced, kind: change.kind, details },
    {
      action: change.action,
      lockWaitMs: options.lockWaitMs,
      onLockWait: (wait) => onLockWait(wait,
        `${change.action} of ${options.migration} waits for the lock on its state row (${options.schema}.state), held by ${describeBlockers(wait.blockers)}; ` +
        `waited ${Math.round(wait.waitedMs / 1000)} s of at most ${Math.round(wait.limitMs / 1000)} s`),
    },
  )
  const acks = await waitForAcknowledgements(pool, options.schema, options.migration, applied.to.version, options.ackTimeoutMs ?? 1000)
  const view = (s: MigrationState) => ({ phase: s.phase, readPercent: s.readPercent })
  return {
    migration: options.migration, from: view(applied.from), to: view(applied.to), changed: applied.changed, ...acks,
    ...(applied.changed && overriddenGate ? { overriddenGate } : {}),
  }
}
