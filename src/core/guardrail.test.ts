import { describe, expect, it } from 'vitest'
import { DEFAULT_GUARDRAILS } from './definition.js'
import { judgeGuardrails, legacyBaseline, quantile } from './guardrail.js'

const config = { ...DEFAULT_GUARDRAILS, maxDivergencesPerMinute: 10, maxP99Ratio: 3, windowSeconds: 30, minSamples: 20 }
const many = (n: number, value: number) => Array.from({ length: n }, () => value)

describe('judgeGuardrails', () => {
  it('trips on a divergence rate above the bound, measured per minute over the window', () => {
    expect(judgeGuardrails(config, { divergences: 5, shadowLatencies: [], legacyLatencies: [] })).toEqual({
      trip: false,
    })
    const verdict = judgeGuardrails(config, { divergences: 6, shadowLatencies: [], legacyLatencies: [] })
    expect(verdict).toMatchObject({ trip: true, bound: 'divergence_rate', measured: 12, limit: 10 })
  })

  it('trips when shadow p99 exceeds the bound times legacy p99', () => {
    const ok = judgeGuardrails(config, {
      divergences: 0,
      shadowLatencies: many(50, 0.003),
      legacyLatencies: many(50, 0.001),
    })
    expect(ok).toEqual({ trip: false })
    const slow = judgeGuardrails(config, {
      divergences: 0,
      shadowLatencies: many(50, 0.0031),
      legacyLatencies: many(50, 0.001),
    })
    expect(slow).toMatchObject({ trip: true, bound: 'p99_ratio', limit: 3 })
    if (slow.trip)
      expect(slow.reason).toMatch(
        /^shadow read p99 3\.1 ms is 3\.10x legacy's 1\.0 ms over the last 30 s, above the bound of 3x$/,
      )
  })

  it('does not judge latency on fewer samples than minSamples on either side', () => {
    expect(
      judgeGuardrails(config, { divergences: 0, shadowLatencies: many(19, 1), legacyLatencies: many(50, 0.001) }),
    ).toEqual({ trip: false })
    expect(
      judgeGuardrails(config, { divergences: 0, shadowLatencies: many(50, 1), legacyLatencies: many(19, 0.001) }),
    ).toEqual({ trip: false })
  })

  it('never trips a bound set to 0', () => {
    expect(
      judgeGuardrails(DEFAULT_GUARDRAILS, {
        divergences: 1e6,
        shadowLatencies: many(100, 9),
        legacyLatencies: many(100, 0.001),
      }),
    ).toEqual({ trip: false })
  })

  it('takes the p99 by nearest rank', () => {
    expect(quantile([...many(99, 1), 100], 0.99)).toBe(1)
    expect(quantile([...many(98, 1), 100, 100], 0.99)).toBe(100)
  })
})

describe('legacyBaseline', () => {
  const at = (time: number, seconds: number) => ({ at: time, seconds })
  it('judges against legacy reads of the same window when there are enough of them, so a slow moment for both trips nothing', () => {
    // Earlier, calm legacy reads (1 ms); then a slow moment in which some reads of both sides take 10-12 ms.
    const window = [...many(5, 0.01), ...many(15, 0.001)].map((seconds, i) => at(10_000 + i, seconds))
    const retained = [...Array.from({ length: 980 }, (_, i) => at(i, 0.001)), ...window]
    const shadow = [...many(3, 0.012), ...many(27, 0.001)]
    const baseline = legacyBaseline(retained, 10_000, 20)
    expect(baseline).toEqual(window.map((s) => s.seconds))
    expect(judgeGuardrails(config, { divergences: 0, shadowLatencies: shadow, legacyLatencies: baseline })).toEqual({
      trip: false,
    })
    // Against every retained read (the baseline before this change) the same moment trips: 12 ms against a p99 of 1 ms.
    expect(
      judgeGuardrails(config, {
        divergences: 0,
        shadowLatencies: shadow,
        legacyLatencies: retained.map((s) => s.seconds),
      }),
    ).toMatchObject({ trip: true })
  })

  it('falls back to every retained legacy read when the window has fewer than minSamples (at 100 % legacy serves none)', () => {
    const retained = [...Array.from({ length: 100 }, (_, i) => at(i, 0.001)), at(10_000, 0.01)]
    expect(legacyBaseline(retained, 10_000, 20)).toEqual(retained.map((s) => s.seconds))
    expect(legacyBaseline(retained, 20_000, 20)).toHaveLength(101)
  })
})
