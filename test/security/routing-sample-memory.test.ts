/**
 * The routing sample used to keep every routing key as given: 2,000 distinct
 * 1 MB keys held 2 GiB, and its cap of 10,000 keys per window allowed about
 * 20 GiB (issue 23, finding 6). It keeps a fixed-size digest of each key, so
 * its memory is bounded by the number of keys alone.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { rolloutBucket } from '../../src/core/bucket.js'
import { RoutingSample } from '../../src/core/routing-sample.js'

/** A full garbage collection on demand (vitest's workers do not expose gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

const KEY_BYTES = 256 * 1024
/** A flat string of KEY_BYTES on the V8 heap (under Node's 1 MB threshold for external strings), distinct per `i`. */
function largeKey(i: number): string {
  const bytes = Buffer.alloc(KEY_BYTES, 'k')
  bytes.write(`tenant-${i}:`, 'latin1')
  return bytes.toString('latin1')
}

describe('the routing sample', { timeout: 120_000 }, () => {
  it('keeps no routing key: 400 distinct 256 KiB keys (100 MiB) leave its heap under 10 MiB larger', () => {
    const sample = new RoutingSample()
    collectGarbage()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 400; i++) sample.record('accounts_v2', largeKey(i))
    collectGarbage()
    const grownMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20
    expect(sample.snapshot().accounts_v2?.distinctKeys).toBe(400)
    expect(grownMiB).toBeLessThan(10)
  })

  it('still counts each distinct large key once, in the bucket the router puts it in', () => {
    const sample = new RoutingSample()
    const keys = Array.from({ length: 300 }, (_, i) => `${'x'.repeat(10_000)}-${i}`)
    for (const key of [...keys, ...keys.slice(0, 100)]) sample.record('accounts_v2', key)
    const counts = sample.snapshot().accounts_v2
    expect(counts?.reads).toBe(400)
    expect(counts?.distinctKeys).toBe(300)
    for (let b = 1; b <= 100; b++)
      expect(counts?.buckets[b - 1]).toBe(keys.filter((k) => rolloutBucket(k, 'accounts_v2') === b).length)
  })
})
