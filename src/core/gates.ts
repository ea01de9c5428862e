/**
 * The evidence each transition needs (docs/design.md § 2, Gates), as pure functions
 * over facts read from the control schema. A refusal names what is missing
 * and the command that produces it.
 */
import { ConfirmationRequired, GateRefused } from './errors.js'
import type { ParityGap } from './parity/index.js'
import { summariseClasses, type FailureClass } from './precheck-classes.js'
import type { StatePlan } from './phases.js'

/** The last `cutover precheck`, as its event recorded it. */
export interface PrecheckEvidence {
  readonly at: Date
  readonly clean: boolean
  /** The definition version it checked. */
  readonly definitionVersion: number
  readonly failingRows: number
  readonly classes: readonly Pick<FailureClass, 'kind' | 'sqlstate' | 'column' | 'constraint' | 'pattern' | 'count'>[]
}

export interface Evidence {
  /** The migration's current definition version (sql/0005; 1 before it). */
  readonly definitionVersion: number
  /** The last precheck, if one ran. */
  readonly lastPrecheck: PrecheckEvidence | undefined
  /** When the last backfill job finished, if one did. */
  readonly backfillFinishedAt: Date | undefined
  /** The last verify run: when, and whether it found nothing. */
  readonly lastVerify: { readonly at: Date; readonly clean: boolean } | undefined
  /** When reads reached 100 % (and have stayed there), if they have. */
  readonly fullReadsSince: Date | undefined
  /** When the migration entered shadow_primary, if it is there. */
  readonly shadowPrimarySince: Date | undefined
  /** Divergences seen (first or again) since `fullReadsSince`. */
  readonly divergencesSinceFullReads: number
  /** The last calibration: whether it found noise. */
  readonly lastCalibration: { readonly at: Date; readonly noisy: boolean } | undefined
  /** What the shadow lacks that the legacy table has; read only for the `complete` gate (undefined otherwise). */
  readonly parityGaps: readonly ParityGap[] | undefined
  readonly soakSeconds: number
  readonly now: Date
}

/** How many gaps to name in a refusal; the rest are counted. */
const GAPS_NAMED = 3

function describeGaps(gaps: readonly ParityGap[]): string {
  const named = gaps
    .slice(0, GAPS_NAMED)
    .map((g) => `${g.item} ${g.object}`)
    .join(', ')
  const more = gaps.length > GAPS_NAMED ? ` and ${gaps.length - GAPS_NAMED} more` : ''
  const byHand = gaps.filter((g) => g.fixSql === null).length
  return `the shadow lacks ${gaps.length} thing(s) the legacy table has (${named}${more})${byHand > 0 ? `, ${byHand} of them to be written by a person` : ''}`
}

export interface GateContext {
  readonly migration: string
}

function refuse(ctx: GateContext, gate: string, missing: string, next: string): never {
  throw new GateRefused(ctx.migration, gate, missing, next)
}

/** Throws GateRefused when `plan` lacks its evidence; returns quietly otherwise. */
export function checkGates(plan: StatePlan, evidence: Evidence, ctx: GateContext): void {
  const m = ctx.migration
  const target = plan.to.phase
  if (target === 'dual_write' && plan.from.phase === 'off') {
    const precheck = evidence.lastPrecheck
    if (!precheck)
      refuse(ctx, 'dual_write', 'no precheck of the mapping over the legacy rows has run', `run: cutover precheck ${m}`)
    if (precheck.definitionVersion !== evidence.definitionVersion) {
      refuse(
        ctx,
        'dual_write',
        `the last precheck checked definition version ${precheck.definitionVersion}, and the registered one is version ${evidence.definitionVersion}`,
        `run: cutover precheck ${m}`,
      )
    }
    if (!precheck.clean) {
      refuse(
        ctx,
        'dual_write',
        `the last precheck found ${precheck.failingRows} legacy row(s) the mapping cannot carry (${summariseClasses(precheck.classes)})`,
        `fix those rows (or the mapping), then run: cutover precheck ${m}`,
      )
    }
  }
  if (target === 'ramp' && plan.from.phase !== 'ramp') {
    if (!evidence.backfillFinishedAt) refuse(ctx, 'ramp', 'no finished backfill', `run: cutover backfill ${m}`)
    const verify = evidence.lastVerify
    if (!verify || verify.at < evidence.backfillFinishedAt)
      refuse(ctx, 'ramp', 'no verify since the backfill finished', `run: cutover verify ${m}`)
    if (!verify.clean)
      refuse(ctx, 'ramp', 'the last verify found differences', `run: cutover repair ${m}, then cutover verify ${m}`)
    if (evidence.lastCalibration?.noisy)
      refuse(
        ctx,
        'ramp',
        'the last calibration found comparison noise',
        `set the normalisers it names, re-register, then run: cutover calibrate ${m}`,
      )
  }
  if (target === 'shadow_primary') {
    if (!evidence.fullReadsSince)
      refuse(
        ctx,
        'shadow_primary',
        'reads are not at 100 % on the shadow',
        `run: cutover ramp ${m} 100, then wait ${evidence.soakSeconds} s`,
      )
    const soaked = (evidence.now.getTime() - evidence.fullReadsSince.getTime()) / 1000
    if (soaked < evidence.soakSeconds) {
      refuse(
        ctx,
        'shadow_primary',
        `reads have been at 100 % for ${Math.floor(soaked)} s of the ${evidence.soakSeconds} s soak`,
        `wait ${Math.ceil(evidence.soakSeconds - soaked)} s more and advance again`,
      )
    }
    if (evidence.divergencesSinceFullReads > 0) {
      refuse(
        ctx,
        'shadow_primary',
        `${evidence.divergencesSinceFullReads} divergence(s) seen since reads reached 100 %`,
        `inspect with: cutover divergences ${m}; repair with: cutover repair ${m}`,
      )
    }
  }
  if (target === 'complete') {
    const verify = evidence.lastVerify
    if (!evidence.shadowPrimarySince || !verify || verify.at < evidence.shadowPrimarySince) {
      refuse(ctx, 'complete', 'no verify since entering shadow_primary', `run: cutover verify ${m}`)
    }
    if (!verify.clean)
      refuse(ctx, 'complete', 'the last verify found differences', `run: cutover repair ${m}, then cutover verify ${m}`)
    const gaps = evidence.parityGaps ?? []
    if (gaps.length > 0)
      refuse(
        ctx,
        'complete',
        describeGaps(gaps),
        `see them with: cutover doctor ${m}; add the ones cutover can write with: cutover doctor ${m} --apply`,
      )
  }
}

/**
 * `complete` needs its own confirmation whatever the evidence and whatever
 * `force` says: it is the one step that cannot be undone.
 */
export function checkConfirmation(
  plan: StatePlan,
  ctx: { migration: string; confirmed: boolean; forced: boolean },
): void {
  if (plan.to.phase !== 'complete' || plan.isNoop || ctx.confirmed) return
  throw new ConfirmationRequired(
    ctx.migration,
    `run: cutover advance ${ctx.migration} --to complete --confirm${ctx.forced ? ' --force' : ''} (from code: advance(pool, { …, to: 'complete', confirm: true }))`,
  )
}
