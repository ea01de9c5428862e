import { describe, expect, it } from 'vitest'
import { histogramQuantile } from './histogram-quantile.js'

describe('histogramQuantile', () => {
  it('interpolates inside the bucket that holds the rank, as PromQL does', () => {
    // 100 reads: 90 at most 10 ms, 10 between 10 and 50 ms; rank 99 is the 9th of those 10.
    expect(
      histogramQuantile(0.99, [
        { le: 0.01, count: 90 },
        { le: 0.05, count: 100 },
        { le: Infinity, count: 100 },
      ]),
    ).toBeCloseTo(0.01 + 0.04 * 0.9, 9)
  })

  it('gives the highest finite bound when the rank falls in +Inf, and null with no reads', () => {
    expect(
      histogramQuantile(0.99, [
        { le: 0.01, count: 1 },
        { le: Infinity, count: 100 },
      ]),
    ).toBe(0.01)
    expect(
      histogramQuantile(0.99, [
        { le: 0.01, count: 0 },
        { le: Infinity, count: 0 },
      ]),
    ).toBeNull()
  })
})
