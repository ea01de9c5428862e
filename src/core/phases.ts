/** The six phases, what each does with writes and reads, and the pure state transitions between them. */
import { PhaseSkipped, TransitionInvalid } from './errors.js'

export const PHASES = ['off', 'dual_write', 'shadow_read', 'ramp', 'shadow_primary', 'complete'] as const
export type Phase = (typeof PHASES)[number]
export type Side = 'legacy' | 'shadow'

export function isPhase(value: unknown): value is Phase {
  return typeof value === 'string' && (PHASES as readonly string[]).includes(value)
}

/** The state of one migration, as stored in the control schema. */
export interface MigrationState {
  readonly phase: Phase
  readonly readPercent: number
  readonly authority: Side
  readonly version: number
}

export const UNKNOWN_STATE: MigrationState = { phase: 'off', readPercent: 0, authority: 'legacy', version: 0 }

export interface PhasePolicy {
  /** Which tables a write touches; the first is authoritative. */
  readonly writes: readonly Side[]
  /** Where reads go: one side, or by sticky percentage. */
  readonly reads: Side | 'ramp'
  /** Whether reads are (sampled and) compared against the other side. */
  readonly compareReads: boolean
}

const POLICIES: Readonly<Record<Phase, PhasePolicy>> = {
  off: { writes: ['legacy'], reads: 'legacy', compareReads: false },
  dual_write: { writes: ['legacy', 'shadow'], reads: 'legacy', compareReads: false },
  shadow_read: { writes: ['legacy', 'shadow'], reads: 'legacy', compareReads: true },
  ramp: { writes: ['legacy', 'shadow'], reads: 'ramp', compareReads: true },
  shadow_primary: { writes: ['shadow', 'legacy'], reads: 'shadow', compareReads: false },
  complete: { writes: ['shadow'], reads: 'shadow', compareReads: false },
}

export function phasePolicy(phase: Phase): PhasePolicy {
  return POLICIES[phase]
}

export function authorityOf(phase: Phase): Side {
  return phase === 'shadow_primary' || phase === 'complete' ? 'shadow' : 'legacy'
}

/** The next state, before gates: what `advance`, `ramp` and `rollback` ask for. */
export interface StatePlan {
  readonly kind: 'advance' | 'ramp' | 'rollback'
  readonly from: MigrationState
  readonly to: Omit<MigrationState, 'version'>
  /** True when the state would not change (an idempotent repeat). */
  readonly isNoop: boolean
}

function plan(kind: StatePlan['kind'], from: MigrationState, phase: Phase, readPercent: number): StatePlan {
  const to = { phase, readPercent, authority: authorityOf(phase) }
  return { kind, from, to, isNoop: from.phase === phase && from.readPercent === readPercent }
}

function readPercentOf(phase: Phase, current: MigrationState): number {
  if (phase === 'ramp') return current.phase === 'ramp' ? current.readPercent : 1
  return phase === 'shadow_primary' || phase === 'complete' ? 100 : 0
}

/** Moves to `to` (default: the next phase). Only forward moves; going back is `rollback`. */
export function planAdvance(migration: string, from: MigrationState, to?: Phase): StatePlan {
  const index = PHASES.indexOf(from.phase)
  const target = to ?? PHASES[index + 1]
  if (target === undefined)
    throw new TransitionInvalid(
      migration,
      `is complete, the last phase; nothing to advance to (after its retire soak, retire the legacy table with: cutover retire ${migration})`,
    )
  const targetIndex = PHASES.indexOf(target)
  if (targetIndex < index) {
    throw new TransitionInvalid(
      migration,
      `cannot advance from ${from.phase} back to ${target}; to go back use: cutover rollback ${migration}`,
    )
  }
  const next = PHASES[index + 1] as Phase
  if (targetIndex > index + 1 && !(from.phase === 'shadow_read' && target === 'shadow_primary')) {
    throw new PhaseSkipped(migration, from.phase, target, next)
  }
  return plan('advance', from, target, readPercentOf(target, from))
}

/** Sets the read percentage; allowed in `shadow_read` (which enters `ramp`) and `ramp`. */
export function planRamp(migration: string, from: MigrationState, percent: number): StatePlan {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new TransitionInvalid(
      migration,
      `read percentage must be a whole number from 0 to 100, not ${String(percent)}`,
    )
  }
  if (from.phase === 'off' || from.phase === 'dual_write') {
    const next = from.phase === 'off' ? 'dual_write' : 'shadow_read'
    throw new TransitionInvalid(
      migration,
      `ramp works in shadow_read or ramp, and the migration is in ${from.phase}; first advance it one phase (to ${next}) with: cutover advance ${migration}`,
    )
  }
  if (from.phase === 'shadow_primary') {
    throw new TransitionInvalid(
      migration,
      `ramp works in shadow_read or ramp, and the migration is in shadow_primary (the shadow is authoritative); to send reads back to legacy run: cutover rollback ${migration}`,
    )
  }
  if (from.phase === 'complete') {
    throw new TransitionInvalid(
      migration,
      'is complete: every read goes to the shadow and the legacy table is no longer written, so there is nothing to ramp',
    )
  }
  return plan('ramp', from, 'ramp', percent)
}

/** Back to `dual_write`, 0 % shadow reads, legacy authoritative. Idempotent; refused only for `complete`. */
export function planRollback(migration: string, from: MigrationState): StatePlan {
  if (from.phase === 'complete') {
    throw new TransitionInvalid(
      migration,
      'is complete, the one step that cannot be rolled back; the legacy table is no longer written. Restore from backup or start a new migration back to the old shape',
    )
  }
  if (from.phase === 'off') return plan('rollback', from, 'off', 0)
  return plan('rollback', from, 'dual_write', 0)
}
