/** The rows the suite reports, and how one measured comparison becomes named rows. */
import type { Comparison } from './latency.js'

/** One reported number; `ratio` is value ÷ baseline, null without a baseline. */
export interface BenchResult {
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly baseline: number | null
  readonly ratio: number | null
}

/** The DESIGN.md names are for 8 clients; other client counts get a `_c<n>` suffix. */
export function clientSuffix(clients: number): string {
  return clients === 8 ? '' : `_c${clients}`
}

function round(value: number, digits: number): number {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : value
}

export function result(name: string, value: number, unit: string, baseline: number | null = null): BenchResult {
  const ratio = baseline === null || baseline === 0 ? null : round(value / baseline, 3)
  const digits = unit.endsWith('/s') ? 0 : 3
  return {
    name,
    value: round(value, digits),
    unit,
    baseline: baseline === null ? null : round(baseline, digits),
    ratio,
  }
}

/**
 * `<prefix>_p50_ratio`, `<prefix>_p99_ratio` (ms) and `<prefix>_ops_per_s`, the
 * candidate against the application's current call; and with a prepared
 * baseline the same three with `_prepared`, against the physical limit.
 */
export function comparisonResults(prefix: string, comparison: Comparison): BenchResult[] {
  const suffix = clientSuffix(comparison.clients)
  const { candidate, baseline, prepared } = comparison
  const against = (b: typeof baseline, tag: string): BenchResult[] => [
    result(`${prefix}_p50_ratio${tag}${suffix}`, candidate.p50Ms, 'ms', b.p50Ms),
    result(`${prefix}_p99_ratio${tag}${suffix}`, candidate.p99Ms, 'ms', b.p99Ms),
    result(`${prefix}_ops_per_s${tag}${suffix}`, candidate.opsPerSecond, 'ops/s', b.opsPerSecond),
  ]
  return [...against(baseline, ''), ...(prepared ? against(prepared, '_prepared') : [])]
}
