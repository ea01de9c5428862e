/**
 * Application writers through the DAL that never insert or delete a key below `firstNewKey`: they update
 * keys 1..updateKeys and insert new keys from `firstNewKey` up, so the keys of a job's range (fixed at its
 * start) stay the same while it runs and each chunk's count can be checked afterwards. They carry on
 * through errors (a terminated connection, a restarting server), counting them.
 */
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { order } from './orders-fixture.js'
import { seededRandom } from './writers.js'

export interface RangeWriters {
  /** Stops every writer and waits for them. */
  stop(): Promise<{ writes: number; errors: number }>
}

export function startRangeWriters(
  dal: MigrationDal,
  options: { count: number; updateKeys: number; firstNewKey: number; seed: number },
): RangeWriters {
  let stopped = false
  let nextKey = options.firstNewKey
  let writes = 0
  let errors = 0
  const loops = Array.from({ length: options.count }, async (_, w) => {
    const random = seededRandom(options.seed + w)
    while (!stopped) {
      try {
        if (random() < 0.7) {
          const key = 1 + Math.floor(random() * options.updateKeys)
          await dal.update(key, {
            status: `s${Math.floor(random() * 1000)}`,
            amount_cents: Math.floor(random() * 100_000),
          })
        } else {
          await dal.insert(order(nextKey++))
        }
        writes++
      } catch {
        errors++
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  })
  return {
    async stop() {
      stopped = true
      await Promise.all(loops)
      return { writes, errors }
    },
  }
}
