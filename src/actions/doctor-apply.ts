/** `cutover doctor --apply`: run the checks, apply the SQL their findings carry (one transaction, recorded), and check again. */
import { applyFindings, runDoctor, type DoctorInput, type DoctorReport } from '../store/doctor/run-doctor.js'
import type { PoolLike } from '../db/queryable.js'

export interface DoctorApplyOptions extends DoctorInput {
  readonly actor: string
  readonly reason?: string | undefined
  /** The longest any statement waits for a lock (default 5 s); past it nothing is applied. */
  readonly lockTimeoutMs?: number
}

export interface DoctorApplyResult {
  /** The statements that ran, in order (empty: no finding carried SQL, nothing changed). */
  readonly applied: readonly string[]
  /** The findings after applying (the first report when nothing was applied). */
  readonly report: DoctorReport
}

export async function doctorApply(pool: PoolLike, options: DoctorApplyOptions): Promise<DoctorApplyResult> {
  const before = await runDoctor(pool, options)
  const applied = await applyFindings(pool, before.findings, {
    schema: options.schema,
    actor: options.actor,
    reason: options.reason,
    lockTimeoutMs: options.lockTimeoutMs,
  })
  return { applied, report: applied.length === 0 ? before : await runDoctor(pool, options) }
}
