/**
 * A bounded sample of the routing keys this process read recently, kept as the
 * number of distinct keys per rollout bucket (1..100), never the keys
 * themselves beyond the process. `cutover ramp` sums the buckets of every live
 * instance to say how many routing keys a percentage change moves.
 *
 * Within the process a key is remembered by its SHA-256 digest (44 characters),
 * never as given: a routing key is the caller's (a tenant id, or a 1 MB string),
 * so the sample's memory is bounded by `maxKeys` whatever the keys' size.
 */
import { hash } from 'node:crypto'
import { rolloutBucket } from './bucket.js'

/** What one process reports for one migration. */
export interface BucketCounts {
  /** Reads recorded in the window (each read, not each key). */
  readonly reads: number
  /** Distinct routing keys recorded (capped). */
  readonly distinctKeys: number
  /** `buckets[b - 1]`: distinct keys in bucket b (1..100). */
  readonly buckets: readonly number[]
}

export interface RoutingSampleOptions {
  /** Distinct keys kept per migration per generation; keys beyond it are counted as reads only. */
  readonly maxKeys?: number
  /** How long a generation lasts; the sample covers the current and the previous one. */
  readonly windowMs?: number
  readonly now?: () => number
}

interface Generation {
  readonly startedMs: number
  /** Per migration: routing key's digest (keyDigest) → its bucket. */
  readonly keys: Map<string, Map<string, number>>
  readonly reads: Map<string, number>
  /** Per migration: distinct keys per bucket, of this generation alone. */
  readonly buckets: Map<string, number[]>
}

/** Distinct keys per bucket over the current and the previous generation, kept up to date as keys arrive. */
interface Union {
  readonly buckets: number[]
  distinctKeys: number
}

export const DEFAULT_SAMPLE_KEYS = 10_000

/** What the sample keeps of a routing key: its SHA-256, 44 characters of base64, whatever the key's length. */
export function keyDigest(routingKey: string): string {
  return hash('sha256', routingKey, 'base64')
}
export const DEFAULT_SAMPLE_WINDOW_MS = 5 * 60_000

export class RoutingSample {
  readonly #maxKeys: number
  readonly #windowMs: number
  readonly #now: () => number
  #previous: Generation | undefined
  #current: Generation
  #union = new Map<string, Union>()

  constructor(options: RoutingSampleOptions = {}) {
    this.#maxKeys = options.maxKeys ?? DEFAULT_SAMPLE_KEYS
    this.#windowMs = options.windowMs ?? DEFAULT_SAMPLE_WINDOW_MS
    this.#now = options.now ?? Date.now
    this.#current = this.#generation()
  }

  /** Records one routed read of `routingKey` for `migration`: O(1), bucket counts included. */
  record(migration: string, routingKey: string): void {
    this.#rotate()
    const g = this.#current
    g.reads.set(migration, (g.reads.get(migration) ?? 0) + 1)
    let keys = g.keys.get(migration)
    if (!keys) g.keys.set(migration, (keys = new Map()))
    if (keys.size >= this.#maxKeys) return
    const digest = keyDigest(routingKey)
    if (keys.has(digest)) return
    const before = this.#previous?.keys.get(migration)?.get(digest)
    const bucket = before ?? rolloutBucket(routingKey, migration)
    keys.set(digest, bucket)
    let own = g.buckets.get(migration)
    if (!own) g.buckets.set(migration, (own = new Array<number>(100).fill(0)))
    own[bucket - 1] = (own[bucket - 1] ?? 0) + 1
    if (before !== undefined) return
    let union = this.#union.get(migration)
    if (!union) this.#union.set(migration, (union = { buckets: new Array<number>(100).fill(0), distinctKeys: 0 }))
    union.buckets[bucket - 1] = (union.buckets[bucket - 1] ?? 0) + 1
    union.distinctKeys++
  }

  /** Bucket counts per migration over the current and the previous generation (100 numbers each, nothing else copied). */
  snapshot(): Record<string, BucketCounts> {
    this.#rotate()
    const out: Record<string, BucketCounts> = {}
    for (const [migration, union] of this.#union) {
      const reads = (this.#previous?.reads.get(migration) ?? 0) + (this.#current.reads.get(migration) ?? 0)
      out[migration] = { reads, distinctKeys: union.distinctKeys, buckets: [...union.buckets] }
    }
    return out
  }

  #rotate(): void {
    const now = this.#now()
    if (now - this.#current.startedMs < this.#windowMs) return
    // A generation older than two windows is dropped whole.
    this.#previous = now - this.#current.startedMs < 2 * this.#windowMs ? this.#current : undefined
    this.#current = this.#generation()
    // The union is now the previous generation alone.
    this.#union = new Map()
    if (!this.#previous) return
    for (const [migration, buckets] of this.#previous.buckets) {
      this.#union.set(migration, { buckets: [...buckets], distinctKeys: this.#previous.keys.get(migration)?.size ?? 0 })
    }
    for (const migration of this.#previous.reads.keys()) {
      if (!this.#union.has(migration))
        this.#union.set(migration, { buckets: new Array<number>(100).fill(0), distinctKeys: 0 })
    }
  }

  #generation(): Generation {
    return { startedMs: this.#now(), keys: new Map(), reads: new Map(), buckets: new Map() }
  }
}

/**
 * How many of the sampled keys change sides when the percentage goes from
 * `from` to `to`: exactly those whose bucket lies in (min, max].
 */
export function keysBetween(buckets: readonly number[], from: number, to: number): number {
  const low = Math.min(from, to)
  const high = Math.max(from, to)
  let moved = 0
  for (let b = low + 1; b <= high; b++) moved += buckets[b - 1] ?? 0
  return moved
}

/** Sums several processes' counts (a key read by two processes counts twice: an upper bound). */
export function sumBucketCounts(all: readonly BucketCounts[]): BucketCounts {
  const buckets = new Array<number>(100).fill(0)
  let reads = 0
  let distinctKeys = 0
  for (const c of all) {
    reads += c.reads
    distinctKeys += c.distinctKeys
    c.buckets.forEach((n, i) => {
      buckets[i] = (buckets[i] ?? 0) + n
    })
  }
  return { reads, distinctKeys, buckets }
}
