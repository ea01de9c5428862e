import { describe, expect, it } from 'vitest'
import { rolloutBucket } from './bucket.js'
import { keysBetween, RoutingSample, sumBucketCounts } from './routing-sample.js'

const keys = Array.from({ length: 3000 }, (_, i) => `tenant-${i}`)

describe('RoutingSample', () => {
  it('counts distinct keys per bucket, and reads apart', () => {
    const sample = new RoutingSample()
    for (const k of keys) sample.record('orders_v2', k)
    for (const k of keys.slice(0, 100)) sample.record('orders_v2', k)
    const counts = sample.snapshot().orders_v2
    expect(counts?.reads).toBe(3100)
    expect(counts?.distinctKeys).toBe(3000)
    for (let b = 1; b <= 100; b++) {
      expect(counts?.buckets[b - 1]).toBe(keys.filter((k) => rolloutBucket(k, 'orders_v2') === b).length)
    }
  })

  it('keeps at most maxKeys distinct keys, and still counts the reads', () => {
    const sample = new RoutingSample({ maxKeys: 50 })
    for (const k of keys.slice(0, 80)) sample.record('m', k)
    const counts = sample.snapshot().m
    expect(counts?.distinctKeys).toBe(50)
    expect(counts?.reads).toBe(80)
    expect(counts?.buckets.reduce((a, b) => a + b, 0)).toBe(50)
  })

  it('covers the current and the previous window, and forgets older reads', () => {
    let now = 0
    const sample = new RoutingSample({ windowMs: 1000, now: () => now })
    sample.record('m', 'a')
    now = 1500
    sample.record('m', 'b')
    expect(sample.snapshot().m?.distinctKeys).toBe(2)
    now = 2600
    expect(sample.snapshot().m?.distinctKeys).toBe(1)
    now = 10_000
    expect(sample.snapshot().m).toBeUndefined()
  })

  it('counts a key read in both the previous and the current window once, as it keeps its counts up to date', () => {
    let now = 0
    const sample = new RoutingSample({ windowMs: 1000, now: () => now })
    for (const k of keys.slice(0, 1000)) sample.record('m', k)
    now = 1500
    for (const k of keys.slice(500, 2000)) sample.record('m', k)
    const union = keys.slice(0, 2000)
    const counts = sample.snapshot().m
    expect(counts?.distinctKeys).toBe(2000)
    expect(counts?.reads).toBe(2500)
    for (let b = 1; b <= 100; b++)
      expect(counts?.buckets[b - 1]).toBe(union.filter((k) => rolloutBucket(k, 'm') === b).length)
    now = 2600
    // Only the window that started at 1,500 ms is left.
    const left = sample.snapshot().m
    expect(left?.distinctKeys).toBe(1500)
    for (let b = 1; b <= 100; b++)
      expect(left?.buckets[b - 1]).toBe(keys.slice(500, 2000).filter((k) => rolloutBucket(k, 'm') === b).length)
  })

  it('keeps migrations apart (each its own bucketing group)', () => {
    const sample = new RoutingSample()
    sample.record('a', 'k1')
    sample.record('b', 'k1')
    const snap = sample.snapshot()
    expect(snap.a?.buckets[rolloutBucket('k1', 'a') - 1]).toBe(1)
    expect(snap.b?.buckets[rolloutBucket('k1', 'b') - 1]).toBe(1)
  })
})

describe('keysBetween', () => {
  it('counts the keys whose bucket lies in (low, high], in either direction', () => {
    const buckets = Array.from({ length: 100 }, (_, i) => i + 1) // bucket b holds b keys
    expect(keysBetween(buckets, 50, 20)).toBe(Array.from({ length: 30 }, (_, i) => 21 + i).reduce((a, b) => a + b, 0))
    expect(keysBetween(buckets, 20, 50)).toBe(keysBetween(buckets, 50, 20))
    expect(keysBetween(buckets, 30, 30)).toBe(0)
    expect(keysBetween(buckets, 0, 100)).toBe(5050)
  })

  it('sums instances bucket by bucket', () => {
    const one = { reads: 3, distinctKeys: 2, buckets: Array.from({ length: 100 }, (_, i) => (i === 4 ? 2 : 0)) }
    const sum = sumBucketCounts([one, one])
    expect(sum).toMatchObject({ reads: 6, distinctKeys: 4 })
    expect(sum.buckets[4]).toBe(4)
  })
})
