/** Judges whether a migration crossed its guardrails: the divergence rate, or shadow p99 against legacy p99. */
import type { GuardrailConfig } from './definition.js'
import type { WindowSummary } from './latency-window.js'

export interface GuardrailStats {
  /** Divergences seen in the window. */
  readonly divergences: number
  /** Read latencies (seconds) served by the shadow in the window. */
  readonly shadowLatencies: readonly number[]
  /** Read latencies served by legacy: those of the window, or recent ones when the window has too few (see {@link legacyBaseline}). */
  readonly legacyLatencies: readonly number[]
}

export type GuardrailVerdict =
  | { readonly trip: false }
  | {
      readonly trip: true
      readonly bound: 'divergence_rate' | 'p99_ratio'
      readonly measured: number
      readonly limit: number
      readonly reason: string
    }

/** The q-quantile (0…1) of `values` by nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

/** One read's latency and when it was observed (ms since the epoch). */
export interface TimedLatency {
  readonly at: number
  readonly seconds: number
}

/**
 * The legacy latencies the shadow's are judged against: those observed in the
 * same window when there are at least `minSamples` of them, so that a moment
 * when the whole machine is slow (a checkpoint, a CPU burst) slows both sides
 * alike and trips nothing; else every retained one (at 100 %, or in
 * shadow_primary, legacy serves few reads or none).
 */
export function legacyBaseline(retained: readonly TimedLatency[], since: number, minSamples: number): number[] {
  const inWindow = retained.filter((s) => s.at >= since).map((s) => s.seconds)
  return inWindow.length >= minSamples ? inWindow : retained.map((s) => s.seconds)
}

/** Judges latency arrays: their nearest-rank p99s through {@link judgeSummary}. */
export function judgeGuardrails(config: GuardrailConfig, stats: GuardrailStats): GuardrailVerdict {
  return judgeSummary(config, {
    divergences: stats.divergences,
    shadow: { count: stats.shadowLatencies.length, p99: quantile(stats.shadowLatencies, 0.99) },
    legacy: { count: stats.legacyLatencies.length, p99: quantile(stats.legacyLatencies, 0.99) },
  })
}

/** Judges a window's counts and p99s (as {@link LatencyWindow} keeps them): the divergence rate first, then the p99 ratio. */
export function judgeSummary(config: GuardrailConfig, stats: WindowSummary): GuardrailVerdict {
  if (config.maxDivergencesPerMinute > 0) {
    const perMinute = (stats.divergences * 60) / config.windowSeconds
    if (perMinute > config.maxDivergencesPerMinute) {
      return {
        trip: true,
        bound: 'divergence_rate',
        measured: perMinute,
        limit: config.maxDivergencesPerMinute,
        reason: `divergence rate ${perMinute.toFixed(1)}/min over the last ${config.windowSeconds} s exceeds the bound of ${config.maxDivergencesPerMinute}/min`,
      }
    }
  }
  if (config.maxP99Ratio > 0 && stats.shadow.count >= config.minSamples && stats.legacy.count >= config.minSamples) {
    const shadow = stats.shadow.p99
    const legacy = stats.legacy.p99
    const ratio = shadow / Math.max(legacy, 1e-6)
    if (ratio > config.maxP99Ratio) {
      return {
        trip: true,
        bound: 'p99_ratio',
        measured: ratio,
        limit: config.maxP99Ratio,
        reason: `shadow read p99 ${(shadow * 1000).toFixed(1)} ms is ${ratio.toFixed(2)}x legacy's ${(legacy * 1000).toFixed(1)} ms over the last ${config.windowSeconds} s, above the bound of ${config.maxP99Ratio}x`,
      }
    }
  }
  return { trip: false }
}
