/** Concurrent application writers through the DAL: inserts of new keys, updates and deletes of random keys, until stopped. */
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { order } from './orders-fixture.js'

export interface Writers {
  /** Stops every writer and waits for them; resolves to the number of writes done. */
  stop(): Promise<number>
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function startWriters(
  dal: MigrationDal,
  options: { count: number; existingKeys: number; firstNewKey: number; seed: number },
): Writers {
  let stopped = false
  let nextKey = options.firstNewKey
  let writes = 0
  const loops = Array.from({ length: options.count }, async (_, w) => {
    const random = seededRandom(options.seed + w)
    while (!stopped) {
      const roll = random()
      const key = 1 + Math.floor(random() * options.existingKeys)
      if (roll < 0.4) await dal.insert(order(nextKey++))
      else if (roll < 0.8)
        await dal.update(key, {
          status: `s${Math.floor(random() * 1000)}`,
          amount_cents: Math.floor(random() * 100_000),
        })
      else await dal.delete(key)
      writes++
    }
  })
  return {
    async stop() {
      stopped = true
      await Promise.all(loops)
      return writes
    },
  }
}
