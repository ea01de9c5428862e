/** DAL insert and update in `dual_write`, each against the plain legacy statement on the same pool, unnamed and prepared. */
import { runInterleaved, type Comparison, type RunSettings } from './lib/latency.js'
import { nextInsertKey } from './lib/insert-keys.js'
import { plainInsert } from './lib/plain-insert.js'
import { LEGACY_TABLE, orderRow, READ_ROWS, UPDATE_ROWS, type BenchWorld } from './lib/setup.js'

const PLAIN_UPDATE = `UPDATE ${LEGACY_TABLE} SET status = $2, amount_cents = $3 WHERE id = $1`

/** Unique keys for both sides; the world must be in `dual_write`. */
export async function measureInsert(world: BenchWorld, clients: number, settings: RunSettings): Promise<Comparison> {
  return runInterleaved({
    clients,
    ...settings,
    baseline: () => plainInsert(world.pool),
    prepared: () => plainInsert(world.pool, true),
    candidate: async () => {
      await world.compared.insert(orderRow(nextInsertKey()))
    },
  })
}

/**
 * Pre-inserted rows, each client cycling through a slice of its own (no row
 * lock waits between clients); the key range is never read, so the rows the
 * plain update leaves different in the shadow cannot reach a compared read.
 */
export async function measureUpdate(world: BenchWorld, clients: number, settings: RunSettings): Promise<Comparison> {
  const slice = Math.floor(UPDATE_ROWS / clients)
  const cursor = new Array<number>(clients).fill(0)
  const nextKey = (client: number): number =>
    READ_ROWS + 1 + client * slice + (cursor[client] = ((cursor[client] ?? 0) + 1) % slice)
  let amount = 0
  return runInterleaved({
    clients,
    ...settings,
    baseline: async (client) => {
      await world.pool.query(PLAIN_UPDATE, [nextKey(client), 'paid', 1000 + (amount++ % 9000)])
    },
    prepared: async (client) => {
      await world.pool.query({
        name: 'bench_plain_update',
        text: PLAIN_UPDATE,
        values: [nextKey(client), 'paid', 1000 + (amount++ % 9000)],
      })
    },
    candidate: async (client) => {
      await world.compared.update(nextKey(client), { status: 'paid', amount_cents: 1000 + (amount++ % 9000) })
    },
  })
}
