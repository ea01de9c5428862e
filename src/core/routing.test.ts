import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rolloutBucket } from './bucket.js'
import type { MigrationState } from './phases.js'
import { defaultRoutingKey, routeRead } from './routing.js'

const ramp = (readPercent: number): MigrationState => ({ phase: 'ramp', readPercent, authority: 'legacy', version: 1 })
const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`)

describe('routeRead', () => {
  it('sends within one point of p % of 20,000 keys to the shadow at 1, 5, 25, 50 and 100 %', () => {
    for (const p of [1, 5, 25, 50, 100]) {
      const share = (keys.filter((k) => routeRead('orders_v2', ramp(p), k) === 'shadow').length / keys.length) * 100
      expect(Math.abs(share - p)).toBeLessThanOrEqual(1)
    }
  })

  it('never moves a key back to legacy as the percentage rises', () => {
    let previous = new Set<string>()
    for (const p of [1, 5, 25, 50, 100]) {
      const onShadow = new Set(keys.filter((k) => routeRead('orders_v2', ramp(p), k) === 'shadow'))
      for (const k of previous) expect(onShadow.has(k)).toBe(true)
      previous = onShadow
    }
  })

  it('sends exactly the keys whose bucket is at most p, with the migration name as group id', () => {
    for (const k of keys.slice(0, 1000)) {
      const bucket = rolloutBucket(k, 'orders_v2')
      expect(routeRead('orders_v2', ramp(bucket), k)).toBe('shadow')
      if (bucket > 1) expect(routeRead('orders_v2', ramp(bucket - 1), k)).toBe('legacy')
    }
  })

  it('reads legacy in off, dual_write and shadow_read, and the shadow in shadow_primary and complete, whatever the key', () => {
    for (const phase of ['off', 'dual_write', 'shadow_read'] as const)
      expect(routeRead('m', { ...ramp(100), phase }, 'k')).toBe('legacy')
    for (const phase of ['shadow_primary', 'complete'] as const)
      expect(routeRead('m', { ...ramp(0), phase }, 'k')).toBe('shadow')
  })

  it('reads legacy at 0 % in ramp', () => {
    expect(keys.slice(0, 500).every((k) => routeRead('m', ramp(0), k) === 'legacy')).toBe(true)
  })

  it('joins composite key values with ":" for the default routing key', () => {
    expect(defaultRoutingKey([42])).toBe('42')
    expect(defaultRoutingKey(['eu', 7n])).toBe('eu:7')
  })

  it('lowering p sends exactly the keys above the new p back to legacy, and no other key moves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a]
        for (const k of keys.slice(0, 2000)) {
          const before = routeRead('orders_v2', ramp(high), k)
          const after = routeRead('orders_v2', ramp(low), k)
          const bucket = rolloutBucket(k, 'orders_v2')
          const movesBack = before === 'shadow' && after === 'legacy'
          if (movesBack !== (bucket > low && bucket <= high)) return false
          if (before === 'legacy' && after === 'shadow') return false
        }
        return true
      }),
      { numRuns: 40 },
    )
  })

  it('at 100 % reads the shadow for any key at all (empty, Unicode, very long)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', maxLength: 5000 }), fc.constant('')),
        (k) => routeRead('m', ramp(100), k) === 'shadow',
      ),
    )
  })
})
