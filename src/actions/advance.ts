/** `cutover advance`: the next phase (or `to`), when its evidence allows; complete also needs `confirm`. */
import { planAdvance, type Phase } from '../core/phases.js'
import type { ActionOptions, ActionResult } from './action-options.js'
import { applyStateChange, type Pool } from './apply-state-change.js'

export interface AdvanceOptions extends ActionOptions {
  /** The target phase; default the next one. */
  readonly to?: Phase | undefined
  /** The confirmation of the one-way step to complete (`--confirm`); `force` never gives it. */
  readonly confirm?: boolean
}

/** Moves forward one phase (or from shadow_read straight to shadow_primary); refuses what its gate refuses unless `force`. */
export function advance(pool: Pool, options: AdvanceOptions): Promise<ActionResult> {
  return applyStateChange(pool, options, {
    action: 'advance',
    makePlan: (current) => planAdvance(options.migration, current, options.to),
    isGated: true,
    confirmed: options.confirm ?? false,
    commandArgs: options.to === undefined ? '' : ` --to ${options.to}`,
  })
}
