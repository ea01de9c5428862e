/**
 * What the write's round-trip check (src/dal/round-trip-check-sql.ts) costs a DAL write: the same DAL insert and
 * update with the check (the default) and without it (`checkWriteRoundTrip: false`, a second Cutover on the same
 * pool and migration), and the application's plain statement, side by side in one run. The bench mapping has two
 * columns whose round trip is not the identity (customer_id through uuid, amount_cents through numeric), so every
 * write carries the check; the rows round-trip, so it finds nothing and records nothing.
 */
import { Registry } from 'prom-client'
import { Cutover } from '../src/cutover/cutover.js'
import type { MigrationDal } from '../src/dal/migration-dal.js'
import { nextInsertKey } from './lib/insert-keys.js'
import { runInterleaved, type Comparison, type RunSettings } from './lib/latency.js'
import { plainInsert } from './lib/plain-insert.js'
import { clientSuffix, result, type BenchResult } from './lib/results.js'
import {
  LEGACY_TABLE,
  MIGRATION,
  orderRow,
  READ_ROWS,
  SCHEMA,
  silentLogger,
  UPDATE_ROWS,
  type BenchWorld,
} from './lib/setup.js'

export interface UncheckedWorld {
  readonly dal: MigrationDal
  close(): Promise<void>
}

/** A DAL of the bench migration whose writes leave the check out. */
export async function prepareUnchecked(world: BenchWorld): Promise<UncheckedWorld> {
  const cutover = await Cutover.connect({
    pool: world.pool,
    registry: new Registry(),
    logger: silentLogger,
    schema: SCHEMA,
    random: () => 0,
    checkWriteRoundTrip: false,
  })
  const dal = await cutover.migration(MIGRATION)
  await cutover.watcher.poll()
  if (dal.state.phase !== 'dual_write') throw new Error(`the unchecked DAL applies ${dal.state.phase}, not dual_write`)
  return { dal, close: () => cutover.close() }
}

const PLAIN_UPDATE = `UPDATE ${LEGACY_TABLE} SET status = $2, amount_cents = $3 WHERE id = $1`

/** baseline: the plain statement; prepared slot: the DAL without the check; candidate: the DAL with it. */
export async function measureRoundTripCheck(
  world: BenchWorld,
  unchecked: UncheckedWorld,
  op: 'insert' | 'update',
  clients: number,
  settings: RunSettings,
): Promise<Comparison> {
  if (op === 'insert') {
    return runInterleaved({
      clients,
      ...settings,
      baseline: () => plainInsert(world.pool),
      prepared: async () => {
        await unchecked.dal.insert(orderRow(nextInsertKey()))
      },
      candidate: async () => {
        await world.compared.insert(orderRow(nextInsertKey()))
      },
    })
  }
  // The update key range, each client on its own slice (no lock waits between clients).
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
      await unchecked.dal.update(nextKey(client), { status: 'paid', amount_cents: 1000 + (amount++ % 9000) })
    },
    candidate: async (client) => {
      await world.compared.update(nextKey(client), { status: 'paid', amount_cents: 1000 + (amount++ % 9000) })
    },
  })
}

/** `round_trip_check_<op>_*`: the DAL with the check against the DAL without it; `*_vs_plain`: against the plain statement. */
export function roundTripCheckResults(op: 'insert' | 'update', comparison: Comparison): BenchResult[] {
  const suffix = clientSuffix(comparison.clients)
  const { candidate, baseline, prepared } = comparison
  if (!prepared) throw new Error('the round-trip check measurement runs three variants')
  return [
    result(`round_trip_check_${op}_p50_ratio${suffix}`, candidate.p50Ms, 'ms', prepared.p50Ms),
    result(`round_trip_check_${op}_p99_ratio${suffix}`, candidate.p99Ms, 'ms', prepared.p99Ms),
    result(`round_trip_check_${op}_ops_per_s${suffix}`, candidate.opsPerSecond, 'ops/s', prepared.opsPerSecond),
    result(`round_trip_check_${op}_p50_ratio_vs_plain${suffix}`, candidate.p50Ms, 'ms', baseline.p50Ms),
  ]
}
