/** Prometheus's histogram_quantile over cumulative buckets, so the in-process p99 and a PromQL one agree. */

/** One cumulative bucket: observations at most `le` seconds. */
export interface Bucket {
  readonly le: number
  readonly count: number
}

/**
 * The q-quantile by linear interpolation inside the bucket holding its rank,
 * as PromQL's histogram_quantile computes it (a rank in the +Inf bucket gives
 * the highest finite bound); null when the buckets hold no observation.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le)
  const total = sorted.at(-1)?.count ?? 0
  if (total <= 0) return null
  const rank = q * total
  let lowerBound = 0
  let lowerCount = 0
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Number.POSITIVE_INFINITY) return lowerBound
      if (bucket.count === lowerCount) return bucket.le
      return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / (bucket.count - lowerCount))
    }
    lowerBound = bucket.le
    lowerCount = bucket.count
  }
  return lowerBound
}
