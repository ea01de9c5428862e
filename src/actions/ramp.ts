/** `cutover ramp`: the share of routing keys that read the shadow, with the keys it moved and the Unleash toggle kept in step. */
import { planRamp } from '../core/phases.js'
import { UnleashAdminFailed } from '../flags/unleash-admin-failed.js'
import { unleashMirrorFor } from '../flags/unleash-mirror.js'
import { estimateKeysMoved, type KeysMoved } from '../store/state/routing-sample-sql.js'
import type { ActionOptions, ActionResult, PhaseView, UnleashMirrorOptions } from './action-options.js'
import { applyStateChange, type Pool } from './apply-state-change.js'
import { readTarget } from '../store/groups/group-target.js'

export interface RampOptions extends ActionOptions {
  /** Whole number 0–100. */
  readonly percent: number
  /** For a migration routed with Unleash: where its toggle is set (required for one; refused before anything changes without it). */
  readonly unleash?: UnleashMirrorOptions
}

export interface RampResult extends ActionResult {
  /** How many recently read routing keys moved, estimated from the running instances' samples (when the state changed). */
  readonly keysMoved?: KeysMoved
  /** What was done in Unleash, for an Unleash-routed migration. */
  readonly unleash?: string
}

/** The control schema changed but the Unleash toggle did not (exit 3); `result` is the change that did happen. */
export class RampNotMirrored extends UnleashAdminFailed {
  constructor(
    readonly result: RampResult,
    failure: UnleashAdminFailed,
  ) {
    super(failure.toggle, failure.detail, { cause: failure })
  }
}

const shadowShare = (state: PhaseView): number => (state.phase === 'ramp' ? state.readPercent : 0)

/**
 * Sets the read percentage (entering ramp from shadow_read needs a finished
 * backfill and a clean verify after it, unless `force`). For an Unleash-routed
 * migration the toggle is then set to the percentage and enabled; if that fails
 * the control schema keeps the change and RampNotMirrored (an UnleashAdminFailed, exit 3, carrying the
 * change made) says what to re-run.
 */
export async function ramp(pool: Pool, options: RampOptions): Promise<RampResult> {
  // Before anything changes: an Unleash-routed migration needs an Unleash URL.
  // A group's members route with the control schema alone (config refuses Unleash for them).
  const target = await readTarget(pool, options.schema, options.migration)
  const mirror =
    target.group !== undefined
      ? undefined
      : await unleashMirrorFor(pool, {
          schema: options.schema,
          migration: options.migration,
          url: options.unleash?.url,
          env: options.unleash?.env,
        })
  const result = await applyStateChange(
    pool,
    options,
    {
      action: 'ramp',
      makePlan: (current) => planRamp(options.migration, current, options.percent),
      isGated: true,
      commandArgs: ` ${options.percent}`,
    },
    target,
  )
  const keysMoved = result.changed
    ? await estimateKeysMoved(pool, options.schema, options.migration, shadowShare(result.from), shadowShare(result.to))
    : undefined
  const changed: RampResult = { ...result, ...(keysMoved ? { keysMoved } : {}) }
  if (!mirror || result.to.phase !== 'ramp') return changed
  try {
    return { ...changed, unleash: await mirror.afterRamp(result.to.readPercent) }
  } catch (error) {
    throw error instanceof UnleashAdminFailed ? new RampNotMirrored(changed, error) : error
  }
}
