/**
 * The metrics the dashboards and alert rules may query: DESIGN.md section 5, plus
 * `cutover_lock_retries_total`, `cutover_state_listening`, the bypass net's two and `cutover_job_throttled`. A label with a list of values only ever takes those.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram'

export interface MetricContract {
  readonly type: MetricType
  /** Label name → its closed set of values, or `null` when any value is possible. */
  readonly labels: Readonly<Record<string, readonly string[] | null>>
}

const OPERATIONS = ['read', 'insert', 'update', 'upsert', 'delete'] as const
const SIDES = ['legacy', 'shadow'] as const
export const PHASE_VALUES = ['off', 'dual_write', 'shadow_read', 'ramp', 'shadow_primary', 'complete'] as const

export const METRICS: Readonly<Record<string, MetricContract>> = {
  cutover_operations_total: {
    type: 'counter',
    labels: { migration: null, operation: OPERATIONS, target: SIDES, result: ['ok', 'error'] },
  },
  cutover_operation_duration_seconds: {
    type: 'histogram',
    labels: { migration: null, operation: OPERATIONS, target: SIDES },
  },
  cutover_reads_total: { type: 'counter', labels: { migration: null, served_from: SIDES } },
  cutover_divergences_total: { type: 'counter', labels: { migration: null, source: ['write', 'read', 'verify'] } },
  cutover_round_trip_writes_total: {
    type: 'counter',
    labels: { migration: null, operation: ['insert', 'update', 'upsert', 'delete'] },
  },
  cutover_comparisons_total: {
    type: 'counter',
    labels: {
      migration: null,
      source: ['read', 'verify', 'calibrate'],
      result: ['match', 'mismatch', 'error', 'skipped'],
    },
  },
  cutover_phase: { type: 'gauge', labels: { migration: null, phase: PHASE_VALUES } },
  cutover_read_percent: { type: 'gauge', labels: { migration: null } },
  cutover_rollbacks_total: { type: 'counter', labels: { migration: null, trigger: ['manual', 'guardrail'] } },
  cutover_state_propagation_seconds: { type: 'histogram', labels: { migration: null } },
  cutover_backfill_rows_total: { type: 'counter', labels: { migration: null } },
  cutover_backfill_progress_ratio: { type: 'gauge', labels: { migration: null } },
  cutover_verify_rows_total: {
    type: 'counter',
    labels: { migration: null, result: ['match', 'mismatch', 'missing_in_shadow', 'missing_in_legacy'] },
  },
  cutover_lock_retries_total: { type: 'counter', labels: { migration: null, task: ['backfill', 'verify', 'repair'] } },
  cutover_state_listening: { type: 'gauge', labels: {} },
  cutover_bypass_writes_total: {
    type: 'counter',
    labels: { migration: null, application_name: null, role: null, op: ['insert', 'update', 'delete'] },
  },
  cutover_bypass_last_write_seconds: { type: 'gauge', labels: { migration: null } },
  cutover_job_throttled: { type: 'gauge', labels: { migration: null, task: ['backfill'] } },
}

/** Labels Prometheus attaches to every scraped series. */
export const TARGET_LABELS = ['instance', 'job'] as const

/**
 * The contract of one series name as Prometheus stores it: a counter or gauge by its
 * name, a histogram only through `_bucket` (with `le`), `_sum` and `_count`.
 */
export function seriesContract(name: string): MetricContract | undefined {
  const direct = METRICS[name]
  if (direct) return direct.type === 'histogram' ? undefined : direct
  const match = /^(.+)_(bucket|sum|count)$/.exec(name)
  const base = match?.[1] === undefined ? undefined : METRICS[match[1]]
  if (!match || !base || base.type !== 'histogram') return undefined
  return match[2] === 'bucket' ? { type: 'histogram', labels: { ...base.labels, le: null } } : base
}
