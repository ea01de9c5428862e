/** The demo's simulated application: workers reading and writing through the DAL, and a view of what they saw. */
import { randomUUID } from 'node:crypto'
import type { Registry } from 'prom-client'
import type { MigrationDal } from '../dal/migration-dal.js'
import { randomName } from './demo-tables.js'

export interface AppStats {
  readonly legacyReads: number
  readonly shadowReads: number
  readonly comparisons: number
  readonly divergences: number
  readonly writes: number
  readonly errors: number
}

export interface DemoApp {
  /** Counters since the app started. */
  stats(): Promise<AppStats>
  stop(): Promise<void>
}

async function counterSum(
  registry: Registry,
  name: string,
  filter: (labels: Partial<Record<string, string | number>>) => boolean = () => true,
): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (!metric) return 0
  return (await metric.get()).values.filter((v) => filter(v.labels)).reduce((sum, v) => sum + v.value, 0)
}

export function startDemoApp(
  dal: MigrationDal,
  registry: Registry,
  keys: readonly string[],
  options: { workers: number; pauseMs: number },
): DemoApp {
  let stopped = false
  let writes = 0
  let errors = 0
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const roll = Math.random()
      const key = keys[Math.floor(Math.random() * keys.length)] as string
      try {
        if (roll < 0.7) await dal.get(key)
        else if (roll < 0.9) {
          await dal.update(key, { balance_cents: Math.floor(Math.random() * 100_000) })
          writes++
        } else {
          await dal.insert({
            id: randomUUID(),
            full_name: randomName(Math.random),
            email: `new-${Date.now()}@example.com`,
            balance_cents: 0,
            prefs: { theme: 'dark' },
          })
          writes++
        }
      } catch {
        errors++
      }
      if (options.pauseMs > 0) await new Promise((r) => setTimeout(r, options.pauseMs))
    }
  }
  const loops = Array.from({ length: options.workers }, loop)
  return {
    async stats() {
      return {
        legacyReads: await counterSum(registry, 'cutover_reads_total', (l) => l.served_from === 'legacy'),
        shadowReads: await counterSum(registry, 'cutover_reads_total', (l) => l.served_from === 'shadow'),
        comparisons: await counterSum(registry, 'cutover_comparisons_total'),
        divergences: await counterSum(registry, 'cutover_divergences_total'),
        writes,
        errors,
      }
    },
    async stop() {
      stopped = true
      await Promise.all(loops)
    },
  }
}
