import { createRequire } from 'node:module'
import { describe, it, expect } from 'vitest'
import { normalizedStrategyValue } from 'unleash-client/lib/strategy/util.js'
import { isInRollout, rolloutBucket } from './bucket.js'

interface FlexibleRollout {
  isEnabled(parameters: { rollout: number; stickiness: string; groupId: string }, context: { userId: string }): boolean
}
// Loaded with require because Node and Vitest disagree on what an ESM default import of
// this CommonJS module (`exports.default = class …`) is.
const { default: FlexibleRolloutStrategy } = createRequire(import.meta.url)(
  'unleash-client/lib/strategy/flexible-rollout-strategy.js',
) as { default: new () => FlexibleRollout }

const PERCENTS = [1, 5, 25, 50, 100] as const

/** Deterministic keys of several shapes: numbers, prefixed ids, uuid-like, non-ASCII. */
function sampleKeys(count: number): string[] {
  const shapes = [
    (i: number) => String(i),
    (i: number) => `user-${i}`,
    (i: number) =>
      `${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}-4e1a-8b2c-${i.toString(16).padStart(12, '0')}`,
    (i: number) => `tenant/${i}/é日本\u{1F600}`,
  ]
  return Array.from({ length: count }, (_, i) => shapes[i % shapes.length]!(i))
}

describe('rolloutBucket', () => {
  it('gives the golden values that Unleash pins across its node, java and go clients', () => {
    expect(rolloutBucket('123', 'gr1')).toBe(73)
    expect(rolloutBucket('999', 'groupX')).toBe(25)
    expect(rolloutBucket('61', 'Demo')).toBe(10)
  })

  it('always returns an integer from 1 to 100', () => {
    for (const key of sampleKeys(2_000)) {
      const bucket = rolloutBucket(key, 'migration')
      expect(Number.isInteger(bucket)).toBe(true)
      expect(bucket).toBeGreaterThanOrEqual(1)
      expect(bucket).toBeLessThanOrEqual(100)
    }
  })

  it('hashes only the low byte of each UTF-16 code unit, exactly as Unleash does', () => {
    expect(rolloutBucket('\u00e9', 'g')).toBe(rolloutBucket('\u01e9', 'g'))
  })

  it('equals unleash-client normalizedStrategyValue for 1,000 keys', () => {
    for (const key of sampleKeys(1_000)) {
      expect(rolloutBucket(key, 'generated_assets')).toBe(normalizedStrategyValue(key, 'generated_assets'))
    }
  })
})

describe('isInRollout', () => {
  it('puts key 123 of group gr1 in at 73 percent and out at 72 percent', () => {
    expect(isInRollout('123', 'gr1', 73)).toBe(true)
    expect(isInRollout('123', 'gr1', 72)).toBe(false)
  })

  it('puts key 999 of group groupX in at 25 percent and out at 24 percent', () => {
    expect(isInRollout('999', 'groupX', 25)).toBe(true)
    expect(isInRollout('999', 'groupX', 24)).toBe(false)
  })

  it('puts every key whose bucket is b in at b percent and out at b - 1 percent', () => {
    for (const key of sampleKeys(500)) {
      const b = rolloutBucket(key, 'g')
      expect(isInRollout(key, 'g', b)).toBe(true)
      expect(isInRollout(key, 'g', b - 1)).toBe(false)
    }
  })

  it('never includes a key at 0 percent and always includes it at 100 percent', () => {
    for (const key of sampleKeys(500)) {
      expect(isInRollout(key, 'g', 0)).toBe(false)
      expect(isInRollout(key, 'g', 100)).toBe(true)
    }
  })

  it('agrees with the Unleash flexibleRollout strategy with userId stickiness for 1,000 keys', () => {
    const strategy = new FlexibleRolloutStrategy()
    const groupId = 'generated_assets'
    for (const key of sampleKeys(1_000)) {
      for (const p of PERCENTS) {
        const unleash = strategy.isEnabled({ rollout: p, stickiness: 'userId', groupId }, { userId: key })
        expect(isInRollout(key, groupId, p)).toBe(unleash)
      }
    }
  })

  it('includes within one point of p percent of 20,000 keys and never drops a key as p grows', () => {
    const keys = sampleKeys(20_000)
    const previouslyIn = new Set<string>()
    for (const p of PERCENTS) {
      const inNow = keys.filter((key) => isInRollout(key, 'generated_assets', p))
      expect(Math.abs((inNow.length / keys.length) * 100 - p)).toBeLessThanOrEqual(1)
      const inNowSet = new Set(inNow)
      for (const key of previouslyIn) expect(inNowSet.has(key)).toBe(true)
      inNow.forEach((key) => previouslyIn.add(key))
    }
  })
})
