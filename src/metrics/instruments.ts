/** The prom-client instruments of DESIGN.md section 5, registered once per registry. */
import client, { type Registry } from 'prom-client'

export interface Instruments {
  readonly operations: client.Counter<'migration' | 'operation' | 'target' | 'result'>
  readonly operationDuration: client.Histogram<'migration' | 'operation' | 'target'>
  readonly reads: client.Counter<'migration' | 'served_from'>
  readonly divergences: client.Counter<'migration' | 'source'>
  readonly comparisons: client.Counter<'migration' | 'source' | 'result'>
  readonly phase: client.Gauge<'migration' | 'phase'>
  readonly readPercent: client.Gauge<'migration'>
  readonly rollbacks: client.Counter<'migration' | 'trigger'>
  readonly statePropagation: client.Histogram<'migration'>
  readonly backfillRows: client.Counter<'migration'>
  readonly backfillProgress: client.Gauge<'migration'>
  readonly verifyRows: client.Counter<'migration' | 'result'>
  readonly lockRetries: client.Counter<'migration' | 'task'>
  /** 1 while this process has proven (by notifying itself) that it hears state notifications, 0 while it polls. */
  readonly stateListening: client.Gauge<never>
}

const cache = new WeakMap<Registry, Instruments>()

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): client.Counter<L> {
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as client.Counter<L>
  return new client.Counter({ name, help, labelNames, registers: [registry] })
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): client.Gauge<L> {
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as client.Gauge<L>
  return new client.Gauge({ name, help, labelNames, registers: [registry] })
}

function histogram<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], buckets: number[]): client.Histogram<L> {
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as client.Histogram<L>
  return new client.Histogram({ name, help, labelNames, buckets, registers: [registry] })
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The instruments on `registry` (default: prom-client's global registry), created on first use only. */
export function instrumentsFor(registry: Registry = client.register): Instruments {
  const cached = cache.get(registry)
  if (cached) return cached
  const instruments: Instruments = {
    operations: counter(registry, 'cutover_operations_total', 'DAL operations by side and result.', ['migration', 'operation', 'target', 'result']),
    operationDuration: histogram(registry, 'cutover_operation_duration_seconds', 'DAL operation latency by side.', ['migration', 'operation', 'target'], LATENCY_BUCKETS),
    reads: counter(registry, 'cutover_reads_total', 'Reads by the side that served them.', ['migration', 'served_from']),
    divergences: counter(registry, 'cutover_divergences_total', 'Differences found between the two sides.', ['migration', 'source']),
    comparisons: counter(registry, 'cutover_comparisons_total', 'Comparisons run, by result.', ['migration', 'source', 'result']),
    phase: gauge(registry, 'cutover_phase', '1 for the current phase of each migration.', ['migration', 'phase']),
    readPercent: gauge(registry, 'cutover_read_percent', 'Share of routing keys read from the shadow.', ['migration']),
    rollbacks: counter(registry, 'cutover_rollbacks_total', 'Rollbacks by trigger.', ['migration', 'trigger']),
    statePropagation: histogram(registry, 'cutover_state_propagation_seconds', 'Time from a state change commit until this process applied it.', ['migration'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10]),
    backfillRows: counter(registry, 'cutover_backfill_rows_total', 'Rows copied by backfill.', ['migration']),
    backfillProgress: gauge(registry, 'cutover_backfill_progress_ratio', 'Backfill progress, 0 to 1.', ['migration']),
    verifyRows: counter(registry, 'cutover_verify_rows_total', 'Rows compared by verify, by result.', ['migration', 'result']),
    lockRetries: counter(registry, 'cutover_lock_retries_total', 'Statements retried after a lock timeout, by job (task).', ['migration', 'task']),
    stateListening: gauge(registry, 'cutover_state_listening', '1 while this process has proven it hears state notifications (LISTEN), 0 while it follows state by polling.', []),
  }
  cache.set(registry, instruments)
  return instruments
}
