/**
 * The one path of every phase change (advance, ramp, rollback) of a migration
 * or of a group (a migration is a group of one): in one transaction it locks
 * every member's state row, makes the plan once from their common state,
 * judges every member's evidence gate and the confirmation of complete, writes
 * the states and one event (with what `force` overrode) and notifies; then it
 * waits for the running processes to acknowledge every member's new version.
 */
import type pg from 'pg'
import { checkConfirmation } from '../core/gates.js'
import { GateRefused, PhaseSkipped, StateLocked } from '../core/errors.js'
import { planAdvance, type MigrationState, type StatePlan } from '../core/phases.js'
import type { Target } from '../core/target.js'
import { createLogger } from '../logger.js'
import { refuseWhenRetired } from '../store/retire/retirement.js'
import { applyStatePlan } from '../store/state/apply-state-plan.js'
import type { StateLockWait } from '../store/state/with-state-lock.js'
import type { PoolLike } from '../db/queryable.js'
import { waitForVersions } from './acknowledgements.js'
import type { ActionOptions, ActionResult } from './action-options.js'
import { checkEvidenceGates } from './migration-gate.js'
import { readTarget, refuseMemberAlone } from '../store/groups/group-target.js'
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
  stderrLogger.warn(
    {
      migration: wait.migration,
      waitedMs: wait.waitedMs,
      limitMs: wait.limitMs,
      blockingPids: wait.blockers.map((b) => b.pid),
    },
    message,
  )
}

/** What a member's refusal says of it: a group's names the member. */
function refusalOf(target: Target, error: GateRefused): string {
  return target.group === undefined ? error.missing : `${error.migration}: ${error.missing}`
}

/** Every member's gate for `plan`; the first refusal (of the members in name order) names the member and its command. */
async function checkMembersGates(
  client: pg.ClientBase,
  schema: string,
  target: Target,
  plan: StatePlan,
): Promise<void> {
  for (const member of target.members) {
    try {
      await checkEvidenceGates(client, schema, member, plan)
    } catch (error) {
      if (!(error instanceof GateRefused) || target.group === undefined) throw error
      throw new GateRefused(
        member,
        error.gate,
        `${error.missing} (group ${target.group} moves only when every member has its evidence)`,
        error.next,
      )
    }
  }
}

/** A skipped phase: when the next phase's own gate refuses now, say that (its command is the one that works). */
async function explainSkip(
  client: pg.ClientBase,
  schema: string,
  target: Target,
  current: MigrationState,
  skipped: PhaseSkipped,
): Promise<never> {
  try {
    await checkMembersGates(client, schema, target, planAdvance(target.name, current))
  } catch (error) {
    if (error instanceof GateRefused)
      throw new PhaseSkipped(
        target.name,
        skipped.from,
        skipped.target,
        skipped.next,
        `${refusalOf(target, error)}; ${error.next}`,
      )
    throw error
  }
  throw skipped
}

/** Applies `change` to the migration or group `options.migration` names (`target`, when the caller read it already). */
export async function applyStateChange(
  pool: Pool,
  options: ActionOptions,
  change: StateChange,
  target?: Target,
): Promise<ActionResult> {
  const t = target ?? (await readTarget(pool, options.schema, options.migration))
  const details: Record<string, unknown> = { ...options.details }
  const onLockWait = options.onLockWait ?? warnOnStderr
  const forced = options.force ?? false
  let overriddenGate: string | undefined
  const applied = await applyStatePlan(
    pool,
    options.schema,
    t,
    async (current, client) => {
      for (const member of t.members) {
        // A retired migration's legacy table is renamed (its name may be the alias view): no phase change acts on it.
        await refuseWhenRetired(client, options.schema, member)
        // A group's member moves with its group only, in the same transaction as its members.
        await refuseMemberAlone(client, options.schema, member, change.action, change.commandArgs ?? '', t.group)
      }
      let plan: StatePlan
      try {
        plan = change.makePlan(current)
      } catch (error) {
        if (error instanceof PhaseSkipped) await explainSkip(client, options.schema, t, current, error)
        throw error
      }
      if (plan.isNoop || !change.isGated) return plan
      try {
        await checkMembersGates(client, options.schema, t, plan)
      } catch (error) {
        // force overrides an evidence gate, and the event keeps what it overrode.
        if (!(error instanceof GateRefused) || !forced) throw error
        overriddenGate = error.gate
        details.overriddenGate = error.gate
        details.overriddenBecause = refusalOf(t, error)
      }
      checkConfirmation(plan, { migration: t.name, confirmed: change.confirmed ?? false, forced })
      await moveToShadowAuthority(client, options.schema, t, plan, details)
      return plan
    },
    { actor: options.actor, reason: options.reason, forced, kind: change.kind, details },
    {
      action: change.action,
      lockWaitMs: options.lockWaitMs,
      onLockWait: (wait) =>
        onLockWait(
          wait,
          `${change.action} of ${t.group === undefined ? t.name : `group ${t.name}`} waits for the lock on ${t.group === undefined ? 'its state row' : "its members' state rows"} (${options.schema}.state), held by ${StateLocked.describeBlockers(wait.blockers)}; ` +
            `waited ${Math.round(wait.waitedMs / 1000)} s of at most ${Math.round(wait.limitMs / 1000)} s`,
        ),
    },
  )
  const versions = new Map([...applied.members].map(([m, s]) => [m, s.version]))
  const acks = await waitForVersions(pool, options.schema, versions, options.ackTimeoutMs ?? 1000)
  const view = (s: MigrationState) => ({ phase: s.phase, readPercent: s.readPercent })
  return {
    migration: t.name,
    ...(t.group === undefined ? {} : { members: t.members }),
    from: view(applied.from),
    to: view(applied.to),
    changed: applied.changed,
    ...acks,
    ...(applied.changed && overriddenGate ? { overriddenGate } : {}),
  }
}
