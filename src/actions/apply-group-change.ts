/**
 * A state change of a group: the same plan as a migration's (advance, ramp,
 * rollback), made once from the members' common state; every member's
 * evidence gate judged (force overrides, recorded); every member written,
 * one event and one NOTIFY, in one transaction; then the running processes'
 * acknowledgements of every member's new version.
 */
import { checkConfirmation } from '../core/gates.js'
import { moveGroupKeySources } from './authority-move.js'
import { GateRefused, PhaseSkipped } from '../core/errors.js'
import { planAdvance, type MigrationState, type StatePlan } from '../core/phases.js'
import { refuseWhenRetired } from '../store/retire/retirement.js'
import { applyGroupPlan } from '../store/state/group-state-store.js'
import { describeBlockers } from '../store/state/state-store.js'
import { waitForVersions } from './acknowledgements.js'
import type { ActionOptions, ActionResult } from './action-options.js'
import { warnOnStderr, type Pool, type StateChange } from './apply-state-change.js'
import { checkEvidenceGates } from './migration-gate.js'

/** Every member's gate for `plan`; the first refusal (of the members in name order) names the member and its command. */
async function checkMembersGates(client: Parameters<typeof checkEvidenceGates>[0], schema: string, group: string, members: readonly string[], plan: StatePlan): Promise<void> {
  for (const member of members) {
    try {
      await checkEvidenceGates(client, schema, member, plan)
    } catch (error) {
      if (!(error instanceof GateRefused)) throw error
      throw new GateRefused(member, error.gate, `${error.missing} (group ${group} moves only when every member has its evidence)`, error.next)
    }
  }
}

export async function applyGroupChange(pool: Pool, options: ActionOptions, change: StateChange, members: readonly string[]): Promise<ActionResult> {
  const group = options.migration
  const details: Record<string, unknown> = { ...options.details }
  const onLockWait = options.onLockWait ?? warnOnStderr
  const forced = options.force ?? false
  let overriddenGate: string | undefined
  const applied = await applyGroupPlan(
    pool, options.schema, group, members,
    async (current, client) => {
      for (const member of members) await refuseWhenRetired(client, options.schema, member)
      let plan: StatePlan
      try {
        plan = change.makePlan(current)
      } catch (error) {
        if (error instanceof PhaseSkipped) await explainGroupSkip(client, options.schema, group, members, current, error)
        throw error
      }
      if (plan.isNoop || !change.isGated) return plan
      try {
        await checkMembersGates(client, options.schema, group, members, plan)
      } catch (error) {
        if (!(error instanceof GateRefused) || !forced) throw error
        overriddenGate = error.gate
        details.overriddenGate = error.gate
        details.overriddenBecause = `${error.migration}: ${error.missing}`
      }
      checkConfirmation(plan, { migration: group, confirmed: change.confirmed ?? false, forced })
      await moveGroupKeySources(client, options.schema, members, plan, details)
      return plan
    },
    { actor: options.actor, reason: options.reason, forced, kind: change.kind ?? change.action, details },
    {
      action: change.action,
      lockWaitMs: options.lockWaitMs,
      onLockWait: (wait) => onLockWait(wait,
        `${change.action} of group ${group} waits for the lock on its members' state rows (${options.schema}.state), held by ${describeBlockers(wait.blockers)}; ` +
        `waited ${Math.round(wait.waitedMs / 1000)} s of at most ${Math.round(wait.limitMs / 1000)} s`),
    },
  )
  const versions = new Map([...applied.members].map(([m, s]) => [m, s.version]))
  const acks = await waitForVersions(pool, options.schema, versions, options.ackTimeoutMs ?? 1000)
  const view = (s: MigrationState) => ({ phase: s.phase, readPercent: s.readPercent })
  return {
    migration: group, members, from: view(applied.from), to: view(applied.to), changed: applied.changed, ...acks,
    ...(applied.changed && overriddenGate ? { overriddenGate } : {}),
  }
}

/** A skipped phase of a group: when a member's gate of the next phase refuses now, say that. */
async function explainGroupSkip(client: Parameters<typeof checkEvidenceGates>[0], schema: string, group: string, members: readonly string[], current: MigrationState, skipped: PhaseSkipped): Promise<never> {
  try {
    await checkMembersGates(client, schema, group, members, planAdvance(group, current))
  } catch (error) {
    if (error instanceof GateRefused) throw new PhaseSkipped(group, skipped.from, skipped.target, skipped.next, `${error.migration}: ${error.missing}; ${error.next}`)
    throw error
  }
  throw skipped
}
