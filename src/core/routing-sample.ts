/**
 * A bounded sample of the routing keys this process read recently, kept as the
 * number of distinct keys per rollout bucket (1..100), never the keys
 * themselves beyond the process. `cutover ramp` sums the buckets of every live
 * instance to say how many routing keys a percentage change moves.
 */
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

interface Generation { readonly startedMs: number; readonly keys: Map<string, Map<string, number>>; readonly reads: Map<string, number> }

export const DEFAULT_SAMPLE_KEYS = 10_000
export const DEFAULT_SAMPLE_WINDOW_MS = 5 * 60_000

export class RoutingSample {
  readonly #maxKeys: number
  readonly #windowMs: number
  readonly #now: () => number
  #previous: Generation | undefined
  #current: Generation

  constructor(options: RoutingSampleOptions = {}) {
    this.#maxKeys = options.maxKeys ?? DEFAULT_SAMPLE_KEYS
    this.#windowMs = options.windowMs ?? DEFAULT_SAMPLE_WINDOW_MS
    this.#now = options.now ?? Date.now
    this.#current = this.#generation()
  }

  /** Records one routed read of `routingKey` for `migration`. */
  record(migration: string, routingKey: string): void {
    this.#rotate()
    const g = this.#current
    g.reads.set(migration, (g.reads.get(migration) ?? 0) + 1)
    let keys = g.keys.get(migration)
    if (!keys) g.keys.set(migration, keys = new Map())
    if (keys.has(routingKey) || keys.size >= this.#maxKeys) return
    keys.set(routingKey, rolloutBucket(routingKey, migration))
  }

  /** Bucket counts per migration over the current and the previous generation. */
  snapshot(): Record<string, BucketCounts> {
    this.#rotate()
    const generations = [this.#previous, this.#current].filter((g): g is Generation => g !== undefined)
    const out: Record<string, BucketCounts> = {}
    const migrations = new Set(generations.flatMap((g) => [...g.reads.keys()]))
    for (const migration of migrations) {
      const union = new Map<string, number>()
      let reads = 0
      for (const g of generations) {
        reads += g.reads.get(migration) ?? 0
        for (const [key, bucket] of g.keys.get(migration) ?? []) union.set(key, bucket)
      }
      const buckets = new Array<number>(100).fill(0)
      for (const bucket of union.values()) buckets[bucket - 1] = (buckets[bucket - 1] ?? 0) + 1
      out[migration] = { reads, distinctKeys: union.size, buckets }
    }
    return out
  }

  #rotate(): void {
    const now = this.#now()
    if (now - this.#current.startedMs < this.#windowMs) return
    // A generation older than two windows is dropped whole.
    this.#previous = now - this.#current.startedMs < 2 * this.#windowMs ? this.#current : undefined
    this.#current = this.#generation()
  }

  #generation(): Generation {
    return { startedMs: this.#now(), keys: new Map(), reads: new Map() }
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
    c.buckets.forEach((n, i) => { buckets[i] = (buckets[i] ?? 0) + n })
  }
  return { reads, distinctKeys, buckets }
}
