/** Sticky percentage bucketing, identical to Unleash's `flexibleRollout`, so switching providers moves nobody. */
import murmurHash3 from 'murmurhash3js'

const STRATEGY_SEED = 0

/**
 * The bucket (1..100) of a routing key within a group: Unleash's `normalizedStrategyValue`,
 * murmur3 x86 32-bit of `"<groupId>:<key>"` with seed 0, then `% 100 + 1`.
 *
 * The same library as unleash-client is used on purpose: it hashes only the low byte of
 * each UTF-16 code unit, and any "more correct" UTF-8 hash would put non-ASCII keys in
 * other buckets than Unleash does.
 */
export function rolloutBucket(key: string, groupId: string): number {
  return (murmurHash3.x86.hash32(`${groupId}:${key}`, STRATEGY_SEED) % 100) + 1
}

/**
 * Whether a routing key is inside a rollout of `percent` (0..100) for a group:
 * never at 0, always at 100, and a key that is in at p stays in at every higher p.
 */
export function isInRollout(key: string, groupId: string, percent: number): boolean {
  return percent > 0 && rolloutBucket(key, groupId) <= percent
}
