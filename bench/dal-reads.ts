/** DAL key reads in `ramp` at 100 % (every read compared, and at the default sample) against a plain legacy key read, unnamed and prepared. */
import type { MigrationDal } from '../src/dal/migration-dal.js'
import { runInterleaved, type Comparison, type RunSettings } from './lib/latency.js'
import { LEGACY_TABLE, READ_ROWS, type BenchWorld } from './lib/setup.js'

const PLAIN_READ = `SELECT * FROM ${LEGACY_TABLE} WHERE id = $1`

function randomKey(): number {
  return 1 + Math.floor(Math.random() * READ_ROWS)
}

/** The world must be in `ramp` at 100 %; keys are drawn from rows both sides hold alike. */
async function measureRead(
  world: BenchWorld,
  dal: MigrationDal,
  clients: number,
  settings: RunSettings,
): Promise<Comparison> {
  return runInterleaved({
    clients,
    ...settings,
    baseline: async () => {
      await world.pool.query(PLAIN_READ, [randomKey()])
    },
    prepared: async () => {
      await world.pool.query({ name: 'bench_plain_read', text: PLAIN_READ, values: [randomKey()] })
    },
    candidate: async () => {
      await dal.get(randomKey())
    },
  })
}

/** Every read served from the shadow and compared with legacy in the same round trip. */
export function measureComparedRead(world: BenchWorld, clients: number, settings: RunSettings): Promise<Comparison> {
  return measureRead(world, world.compared, clients, settings)
}

/** Reads served from the shadow, `compareSample` (default 0.01) of them compared. */
export function measureSampledRead(world: BenchWorld, clients: number, settings: RunSettings): Promise<Comparison> {
  return measureRead(world, world.sampled, clients, settings)
}
