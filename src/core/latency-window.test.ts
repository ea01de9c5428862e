import { describe, expect, it } from 'vitest'
import { DEFAULT_GUARDRAILS, type GuardrailConfig } from './definition.js'
import { judgeGuardrails, judgeSummary, legacyBaseline, type GuardrailVerdict, type TimedLatency } from './guardrail.js'
import { LatencyWindow } from './latency-window.js'
import type { Side } from './phases.js'

const config: GuardrailConfig = {
  ...DEFAULT_GUARDRAILS,
  maxDivergencesPerMinute: 10,
  maxP99Ratio: 3,
  windowSeconds: 30,
  minSamples: 20,
}

interface Event {
  readonly at: number
  readonly side?: Side
  readonly seconds?: number
  readonly divergence?: boolean
}

/** The guardrail before histograms: every read kept, the window filtered, sorted, judged. */
function oldVerdict(events: readonly Event[], now: number): GuardrailVerdict {
  const since = now - config.windowSeconds * 1000
  const legacy: TimedLatency[] = events
    .filter((e) => e.side === 'legacy')
    .map((e) => ({ at: e.at, seconds: e.seconds as number }))
    .slice(-1000)
  return judgeGuardrails(config, {
    divergences: events.filter((e) => e.divergence && e.at >= since).length,
    shadowLatencies: events.filter((e) => e.side === 'shadow' && e.at >= since).map((e) => e.seconds as number),
    legacyLatencies: legacyBaseline(legacy, since, config.minSamples),
  })
}

function newVerdict(events: readonly Event[], checks: readonly number[]): GuardrailVerdict {
  const window = new LatencyWindow(config.windowSeconds, config.minSamples)
  let verdict: GuardrailVerdict = { trip: false }
  let next = 0
  for (const e of events) {
    while (next < checks.length && (checks[next] as number) <= e.at)
      verdict = judgeSummary(config, window.summary(checks[next++] as number))
    if (e.divergence) window.observeDivergence(e.at)
    else window.observeRead(e.side as Side, e.seconds as number, e.at)
  }
  while (next < checks.length) verdict = judgeSummary(config, window.summary(checks[next++] as number))
  return verdict
}

/** A deterministic pseudo-random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Reads over `seconds` seconds from t=100 s, 20 a second (so legacy's window stays within the
 * 1,000 reads the old guardrail retained): latencies in whole µs below 2,048 (kept exactly by the histograms).
 */
function traffic(seed: number, seconds: number): Event[] {
  const r = random(seed)
  const events: Event[] = []
  const shadowSlowdown = 1 + r() * 4
  // About the bound of 10 per minute at 1,200 reads a minute: some runs trip on it, some do not.
  const divergenceRate = r() * 0.02
  const quiet = seed % 2 === 1
  for (let ms = 100_000; ms < 100_000 + seconds * 1000; ms += 50) {
    // Odd seeds go quiet from 110 s to 135 s, so seconds expire without being reused.
    if (quiet && ms >= 110_000 && ms < 135_000 && r() < 0.98) continue
    const side: Side = r() < 0.5 ? 'shadow' : 'legacy'
    const base = 50 + Math.floor(r() * 100) + (r() < 0.02 ? 300 : 0)
    const micros = side === 'shadow' ? Math.min(2047, Math.floor(base * shadowSlowdown)) : base
    events.push({ at: ms, side, seconds: micros / 1e6 })
    if (r() < divergenceRate) events.push({ at: ms, divergence: true })
  }
  return events
}

describe('LatencyWindow with judgeSummary gives the verdicts of judgeGuardrails over every read', () => {
  it('on the judgeGuardrails cases: within and above the p99 bound, too few samples, the divergence rate', () => {
    const now = 200_000
    const reads = (side: Side, n: number, seconds: number): Event[] =>
      Array.from({ length: n }, (_, i) => ({ at: now - 5_000 + i, side, seconds }))
    const divergences = (n: number): Event[] =>
      Array.from({ length: n }, (_, i) => ({ at: now - 5_000 + i, divergence: true }))
    const cases: Event[][] = [
      divergences(5),
      divergences(6),
      [...reads('shadow', 50, 0.003), ...reads('legacy', 50, 0.001)],
      [...reads('shadow', 50, 0.0031), ...reads('legacy', 50, 0.001)],
      [...reads('shadow', 19, 1), ...reads('legacy', 50, 0.001)],
      [...reads('shadow', 50, 1), ...reads('legacy', 19, 0.001)],
    ]
    const verdicts = cases.map((events) => [oldVerdict(events, now), newVerdict(events, [now])])
    for (const [old, fresh] of verdicts) expect(fresh).toEqual(old)
    expect(verdicts.map(([old]) => old?.trip)).toEqual([false, true, false, true, false, false])
  })

  it('on a slow moment both sides share: judged against legacy of the same window, not the calm reads before it', () => {
    const now = 200_000
    const calm: Event[] = Array.from({ length: 980 }, (_, i) => ({ at: 100_000 + i, side: 'legacy', seconds: 0.001 }))
    const slow: Event[] = [...Array.from({ length: 5 }, () => 0.01), ...Array.from({ length: 15 }, () => 0.001)].map(
      (seconds, i) => ({ at: now - 1000 + i, side: 'legacy', seconds }),
    )
    const shadow: Event[] = [...Array.from({ length: 3 }, () => 0.012), ...Array.from({ length: 27 }, () => 0.001)].map(
      (seconds, i) => ({ at: now - 1000 + i, side: 'shadow', seconds }),
    )
    const events = [...calm, ...slow, ...shadow].sort((a, b) => a.at - b.at)
    expect(oldVerdict(events, now)).toEqual({ trip: false })
    expect(newVerdict(events, [101_000, now])).toEqual({ trip: false })
  })

  it('falls back to legacy reads of an earlier window when legacy served fewer than minSamples in this one', () => {
    const earlier: Event[] = Array.from({ length: 100 }, (_, i) => ({
      at: 100_000 + i,
      side: 'legacy',
      seconds: 0.001,
    }))
    const shadow: Event[] = Array.from({ length: 50 }, (_, i) => ({ at: 199_000 + i, side: 'shadow', seconds: 0.005 }))
    const events = [...earlier, ...shadow]
    expect(oldVerdict(events, 200_000)).toMatchObject({ trip: true, bound: 'p99_ratio', measured: 5 })
    // Summarised once while legacy's reads were in its window (the guardrail checks every second).
    expect(newVerdict(events, [101_000, 200_000])).toMatchObject({ trip: true, bound: 'p99_ratio', measured: 5 })
  })

  it('on 40 runs of mixed traffic, checked once a second', () => {
    const trips = new Set<string>()
    for (let seed = 1; seed <= 40; seed++) {
      const events = traffic(seed, 45)
      const checks = Array.from({ length: 45 }, (_, i) => 101_000 + i * 1000)
      for (const now of [120_000, 145_000]) {
        const upTo = events.filter((e) => e.at < now)
        const old = oldVerdict(upTo, now)
        expect(
          newVerdict(
            upTo,
            checks.filter((c) => c <= now),
          ),
          `seed ${seed} at ${now}`,
        ).toEqual(old)
        trips.add(old.trip ? old.bound : 'none')
      }
    }
    // The runs cover every outcome.
    expect([...trips].sort()).toEqual(['divergence_rate', 'none', 'p99_ratio'])
  })
})
