/** The prom-client instruments of docs/design.md § 7, registered once per registry. */
import client, { type Registry } from 'prom-client'

export interface Instruments {
  readonly operations: client.Counter<'migration' | 'operation' | 'target' | 'result'>
  readonly operationDuration: client.Histogram<'migration' | 'operation' | 'target'>
  readonly reads: client.Counter<'migration' | 'served_from'>
  readonly divergences: client.Counter<'migration' | 'source'>
  /** DAL writes of rows that would read back different through backward(forward(row)), judged in the write's statement. */
  readonly roundTripWrites: client.Counter<'migration' | 'operation'>
  readonly comparisons: client.Counter<'migration' | 'source' | 'result'>
  readonly phase: client.Gauge<'migration' | 'phase'>
  readonly readPercent: client.Gauge<'migration'>
  readonly rollbacks: client.Counter<'migration' | 'trigger'>
  readonly statePropagation: client.Histogram<'migration'>
  readonly backfillRows: client.Counter<'migration'>
  readonly backfillProgress: client.Gauge<'migration'>
  readonly verifyRows: client.Counter<'migration' | 'result'>
  readonly lockRetries: client.Counter<'migration' | 'task'>
  readonly jobThrottled: client.Gauge<'migration' | 'task'>
  /** 1 while this process has proven (by notifying itself) that it hears state notifications, 0 while it polls. */
  readonly stateListening: client.Gauge<never>
  /** Rows written to a legacy table by a statement that did not come through the DAL, as the bypass net counted them (from the control schema). */
  readonly bypassWrites: client.Counter<'migration' | 'application_name' | 'role' | 'op'>
  /** Unix time of the latest bypassing write of each migration (a restart-proof signal for the alert). */
  readonly bypassLastWrite: client.Gauge<'migration'>
}

const cache = new WeakMap<Registry, Instruments>()

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): client.Counter<L> {
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as client.Counter<L>
  return new client.Counter({ name, help, labelNames, registers: [registry] })
}

function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): client.Gauge<L> {
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as client.Gauge<L>
  return new client.Gauge({ name, help, labelNames, registers: [registry] })
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
): client.Histogram<L> {
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
    operations: counter(registry, 'cutover_operations_total', 'DAL operations by side and result.', [
      'migration',
      'operation',
      'target',
      'result',
    ]),
    operationDuration: histogram(
      registry,
      'cutover_operation_duration_seconds',
      'DAL operation latency by side.',
      ['migration', 'operation', 'target'],
      LATENCY_BUCKETS,
    ),
    reads: counter(registry, 'cutover_reads_total', 'Reads by the side that served them.', [
      'migration',
      'served_from',
    ]),
    divergences: counter(registry, 'cutover_divergences_total', 'Differences found between the two sides.', [
      'migration',
      'source',
    ]),
    roundTripWrites: counter(
      registry,
      'cutover_round_trip_writes_total',
      'Rows written through the DAL that would read back different through backward(forward(row)).',
      ['migration', 'operation'],
    ),
    comparisons: counter(registry, 'cutover_comparisons_total', 'Comparisons run, by result.', [
      'migration',
      'source',
      'result',
    ]),
    phase: gauge(registry, 'cutover_phase', '1 for the current phase of each migration.', ['migration', 'phase']),
    readPercent: gauge(registry, 'cutover_read_percent', 'Share of routing keys read from the shadow.', ['migration']),
    rollbacks: counter(registry, 'cutover_rollbacks_total', 'Rollbacks by trigger.', ['migration', 'trigger']),
    statePropagation: histogram(
      registry,
      'cutover_state_propagation_seconds',
      'Time from a state change commit until this process applied it.',
      ['migration'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    ),
    backfillRows: counter(registry, 'cutover_backfill_rows_total', 'Rows copied by backfill.', ['migration']),
    backfillProgress: gauge(registry, 'cutover_backfill_progress_ratio', 'Backfill progress, 0 to 1.', ['migration']),
    verifyRows: counter(registry, 'cutover_verify_rows_total', 'Rows compared by verify, by result.', [
      'migration',
      'result',
    ]),
    jobThrottled: gauge(
      registry,
      'cutover_job_throttled',
      '1 while a job waits on its database throttle (replica lag or the application read p99 over its bound); the reason is in the log and in cutover status.',
      ['migration', 'task'],
    ),
    lockRetries: counter(
      registry,
      'cutover_lock_retries_total',
      'Statements retried after a lock timeout, by job (task).',
      ['migration', 'task'],
    ),
    stateListening: gauge(
      registry,
      'cutover_state_listening',
      '1 while this process has proven it hears state notifications (LISTEN), 0 while it follows state by polling.',
      [],
    ),
    bypassWrites: counter(
      registry,
      'cutover_bypass_writes_total',
      'Rows written to the legacy table outside the DAL, counted by the bypass net (same total in every process: aggregate with max).',
      ['migration', 'application_name', 'role', 'op'],
    ),
    bypassLastWrite: gauge(
      registry,
      'cutover_bypass_last_write_seconds',
      'Unix time of the latest row written to the legacy table outside the DAL, as the bypass net saw it.',
      ['migration'],
    ),
  }
  cache.set(registry, instruments)
  return instruments
}

/** A counter child with its labels bound. */
export interface BoundCounter {
  inc(value?: number): void
}
/** A histogram child with its labels bound. */
export interface BoundHistogram {
  observe(value: number): void
}

type Side = 'legacy' | 'shadow'
type WriteOperation = 'insert' | 'update' | 'upsert' | 'delete'

/** Results of `cutover_comparisons_total`; `skipped`: a sampled read whose background comparison was dropped (too many in flight). */
export const COMPARISON_RESULTS = ['match', 'mismatch', 'error', 'skipped'] as const
export type ComparisonResult = (typeof COMPARISON_RESULTS)[number]

/**
 * One migration's DAL instruments with every label bound once, so the hot path
 * increments a child directly instead of hashing a label object per call.
 */
export interface MigrationInstruments {
  readonly reads: Readonly<Record<Side, BoundCounter>>
  readonly readResults: Readonly<Record<Side, Readonly<Record<'ok' | 'error', BoundCounter>>>>
  readonly readDuration: Readonly<Record<Side, BoundHistogram>>
  readonly writeResults: Readonly<
    Record<WriteOperation, Readonly<Record<Side, Readonly<Record<'ok' | 'error', BoundCounter>>>>>
  >
  readonly writeDuration: Readonly<Record<WriteOperation, Readonly<Record<Side, BoundHistogram>>>>
  readonly comparisons: Readonly<Record<ComparisonResult, BoundCounter>>
  readonly divergences: Readonly<Record<'read' | 'write', BoundCounter>>
  readonly roundTripWrites: Readonly<Record<'insert' | 'update' | 'upsert' | 'delete', BoundCounter>>
}

const WRITE_OPERATIONS: readonly WriteOperation[] = ['insert', 'update', 'upsert', 'delete']

function bySide<T>(make: (side: Side) => T): Record<Side, T> {
  return { legacy: make('legacy'), shadow: make('shadow') }
}

function byOperation<T>(make: (operation: WriteOperation) => T): Record<WriteOperation, T> {
  return Object.fromEntries(WRITE_OPERATIONS.map((o) => [o, make(o)])) as Record<WriteOperation, T>
}

/** Binds `migration`'s DAL children on `i` (creating each labelled series at 0 if it did not exist). */
export function migrationInstruments(i: Instruments, migration: string): MigrationInstruments {
  const results = (operation: string, target: Side) => ({
    ok: i.operations.labels({ migration, operation, target, result: 'ok' }),
    error: i.operations.labels({ migration, operation, target, result: 'error' }),
  })
  return {
    reads: bySide((side) => i.reads.labels({ migration, served_from: side })),
    readResults: bySide((side) => results('read', side)),
    readDuration: bySide((side) => i.operationDuration.labels({ migration, operation: 'read', target: side })),
    writeResults: byOperation((operation) => bySide((side) => results(operation, side))),
    writeDuration: byOperation((operation) =>
      bySide((side) => i.operationDuration.labels({ migration, operation, target: side })),
    ),
    comparisons: Object.fromEntries(
      COMPARISON_RESULTS.map((result) => [result, i.comparisons.labels({ migration, source: 'read', result })]),
    ) as Record<ComparisonResult, BoundCounter>,
    divergences: {
      read: i.divergences.labels({ migration, source: 'read' }),
      write: i.divergences.labels({ migration, source: 'write' }),
    },
    roundTripWrites: byOperation((operation) => i.roundTripWrites.labels({ migration, operation })),
  }
}
