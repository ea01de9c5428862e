/**
 * The PromQL of the Grafana dashboard, one named expression per idea. Every selector is
 * filtered by the dashboard's `$migration` variable, and every series is kept apart by
 * migration, so each panel reads "per migration" whichever migrations are selected.
 */
import { PHASE_VALUES } from './metric-contract.js'

/** The `$migration` filter; Grafana expands a multi-value selection into a regex. */
const M = 'migration=~"$migration"'
const RANGE = '$__rate_interval'
const WRITES = 'operation=~"insert|update|upsert|delete"'

/** Shadow-side p99 over legacy-side p99 of one operation filter, per migration (what the guardrail compares). */
function p99Ratio(operations: string, window: string): string {
  const p99 = (target: string) =>
    `histogram_quantile(0.99, sum by (migration, le) (rate(cutover_operation_duration_seconds_bucket{${M}, ${operations}, target="${target}"}[${window}])))`
  return `${p99('shadow')}\n/\n${p99('legacy')}`
}

function latency(quantile: number, operations: string): string {
  return `histogram_quantile(${quantile}, sum by (migration, target, le) (rate(cutover_operation_duration_seconds_bucket{${M}, ${operations}}[${RANGE}])))`
}

/** Failed ÷ all (those matching `filter`) of a counter with a `result` label; 0 rather than no data while nothing failed. */
function errorShare(counter: string, by: string, filter = ''): string {
  const all = `sum by (${by}) (rate(${counter}{${M}${filter}}[${RANGE}]))`
  return `(\n  sum by (${by}) (rate(${counter}{${M}, result="error"}[${RANGE}]))\nor\n  ${all} * 0\n)\n/\n${all}`
}

/**
 * The current phase as its index in PHASE_VALUES (0 = off … 5 = complete): `cutover_phase`
 * is 1 on exactly one phase series per process, so keep that one and turn it into its index.
 */
const phaseIndex = `max by (migration) (\n${PHASE_VALUES.map(
  (phase, index) => `  ${index === 0 ? '  ' : 'or'} (cutover_phase{${M}, phase="${phase}"} == 1) * ${index}`,
).join('\n')}\n)`

export const Q = {
  phaseIndex,
  readPercent: `max by (migration) (cutover_read_percent{${M}})`,
  readsBySide: `sum by (migration, served_from) (rate(cutover_reads_total{${M}}[${RANGE}]))`,

  // Of the comparisons that ran: a skipped one (dropped over the in-flight bound) judged nothing.
  consistencyRate: `sum by (migration) (rate(cutover_comparisons_total{${M}, result="match"}[${RANGE}]))\n/\nsum by (migration) (rate(cutover_comparisons_total{${M}, result!="skipped"}[${RANGE}]))`,
  comparisonErrorRate: errorShare('cutover_comparisons_total', 'migration', ', result!="skipped"'),
  comparisonsBySourceAndResult: `sum by (migration, source, result) (rate(cutover_comparisons_total{${M}}[${RANGE}]))`,
  divergencesBySource: `sum by (migration, source) (increase(cutover_divergences_total{${M}}[${RANGE}]))`,
  roundTripWrites: `sum by (migration, operation) (increase(cutover_round_trip_writes_total{${M}}[${RANGE}]))`,
  // Every application process exports the same totals (read from the control schema): max, never sum.
  bypassWritesByWriter: `max by (migration, application_name, role, op) (increase(cutover_bypass_writes_total{${M}}[${RANGE}]))`,
  bypassLastWriteAge: `time() - max by (migration) (cutover_bypass_last_write_seconds{${M}})`,
  divergencesInRange: `sum by (migration, source) (increase(cutover_divergences_total{${M}}[$__range]))`,

  readP50: latency(0.5, 'operation="read"'),
  readP99: latency(0.99, 'operation="read"'),
  writeP50: latency(0.5, WRITES),
  writeP99: latency(0.99, WRITES),
  readP99Ratio: p99Ratio('operation="read"', RANGE),
  /** A flat line at the bound typed into the dashboard's `p99_ratio_bound` box. */
  p99RatioBound: 'vector($p99_ratio_bound)',

  errorsBySide: `sum by (migration, target, operation) (rate(cutover_operations_total{${M}, result="error"}[${RANGE}]))`,
  errorShareBySide: errorShare('cutover_operations_total', 'migration, target'),

  backfillProgress: `max by (migration) (cutover_backfill_progress_ratio{${M}})`,
  backfillRate: `sum by (migration) (rate(cutover_backfill_rows_total{${M}}[${RANGE}]))`,
  verifyRowsByResult: `sum by (migration, result) (increase(cutover_verify_rows_total{${M}}[${RANGE}]))`,
  verifyDifferencesInRange: `sum by (migration, result) (increase(cutover_verify_rows_total{${M}, result!="match"}[$__range]))`,
  lockRetries: `sum by (migration, task) (rate(cutover_lock_retries_total{${M}}[${RANGE}]))`,

  rollbacksByTrigger: `sum by (migration, trigger) (increase(cutover_rollbacks_total{${M}}[${RANGE}]))`,
  rollbacksInRange: `sum by (migration, trigger) (increase(cutover_rollbacks_total{${M}}[$__range]))`,
  propagationP50: `histogram_quantile(0.5, sum by (migration, le) (rate(cutover_state_propagation_seconds_bucket{${M}}[${RANGE}])))`,
  propagationP99: `histogram_quantile(0.99, sum by (migration, le) (rate(cutover_state_propagation_seconds_bucket{${M}}[${RANGE}])))`,
  propagationP99InRange: `histogram_quantile(0.99, sum by (migration, le) (increase(cutover_state_propagation_seconds_bucket{${M}}[$__range])))`,

  /** Annotation: a rollback happened in the last minute. */
  rollbackAnnotation: `sum by (migration, trigger) (increase(cutover_rollbacks_total{${M}}[1m])) > 0`,
} as const
