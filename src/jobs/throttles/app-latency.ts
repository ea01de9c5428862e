/** Where the application's read p99 comes from for the backfill's throttle: the in-process source, or Prometheus. */
import type { Registry } from 'prom-client'
import { ConfigInvalid } from '../../core/errors.js'
import type { AppLatencyOptions, AppLatencySource, InProcessAppLatency } from './app-latency-source.js'
import { prometheusAppLatency } from './prometheus-app-latency.js'
import { instrumentsFor } from '../../metrics/instruments.js'
import { histogramQuantile, type Bucket } from '../../core/histogram-quantile.js'

export const DEFAULT_APP_P99_WINDOW_SECONDS = 10

/** Sums the read histogram's cumulative buckets over every migration and side, by upper bound. */
async function readBuckets(registry: Registry): Promise<Map<number, number>> {
  const { operationDuration } = instrumentsFor(registry)
  const { values } = await operationDuration.get()
  const byBound = new Map<number, number>()
  for (const v of values) {
    if (v.metricName !== 'cutover_operation_duration_seconds_bucket' || v.labels.operation !== 'read') continue
    const bound = (v.labels as { le?: string | number }).le
    const le = bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound)
    byBound.set(le, (byBound.get(le) ?? 0) + v.value)
  }
  return byBound
}

/**
 * The read p99 of the reads recorded since the newest snapshot at least
 * `windowSeconds` old (or the oldest one kept): prom-client's histogram is
 * cumulative, so a window is the difference of two snapshots of its buckets.
 */
export function inProcessAppLatency(options: InProcessAppLatency, now: () => number = Date.now): AppLatencySource {
  const windowMs = (options.windowSeconds ?? DEFAULT_APP_P99_WINDOW_SECONDS) * 1000
  const snapshots: { at: number; buckets: Map<number, number> }[] = []
  return {
    name: 'in-process',
    async p99Seconds() {
      const at = now()
      const buckets = await readBuckets(options.registry)
      while (snapshots.length > 1 && (snapshots[1] as { at: number }).at <= at - windowMs) snapshots.shift()
      const base = snapshots[0]
      snapshots.push({ at, buckets })
      if (!base) return null
      const delta: Bucket[] = [...buckets].map(([le, count]) => ({ le, count: count - (base.buckets.get(le) ?? 0) }))
      return histogramQuantile(0.99, delta)
    },
  }
}

/**
 * The source `options` names, asked once before the job opens, so a query
 * Prometheus refuses or cannot answer stops the run before anything is
 * written (the in-process source takes its first snapshot).
 */
export async function openAppLatency(
  migration: string,
  options: AppLatencyOptions | undefined,
): Promise<AppLatencySource | undefined> {
  if (!options) return undefined
  const source = 'registry' in options ? inProcessAppLatency(options) : prometheusAppLatency(options)
  try {
    await source.p99Seconds()
  } catch (error) {
    throw new ConfigInvalid(
      migration,
      `the application p99 cannot be read from ${source.name}: ${(error as Error).message}; check --prometheus-url and --p99-query (try the query in Prometheus's own page), or run without --max-app-p99-ms: cutover backfill ${migration}`,
    )
  }
  return source
}
