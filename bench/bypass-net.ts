/**
 * What the bypass net costs the DAL's own writes: a DAL insert into a legacy
 * table carrying the net (copy mode) against a DAL insert into one without it
 * and against the application's plain INSERT, side by side in one run. The net
 * is on a second migration of the same shape, so all three run in the same rounds.
 */
import type { MigrationDal } from '../src/dal/migration-dal.js'
import { installBypassNet } from '../src/actions/bypass-net.js'
import { registerMigrations } from '../src/actions/register.js'
import { parseMigration } from '../src/core/parse-config.js'
import { applyStatePlan } from '../src/store/state/apply-state-plan.js'
import { nextInsertKey } from './lib/insert-keys.js'
import { runInterleaved, type Comparison, type RunSettings } from './lib/latency.js'
import { plainInsert } from './lib/plain-insert.js'
import { clientSuffix, result, type BenchResult } from './lib/results.js'
import { connectCutover, LEGACY_TABLE, orderRow, SCHEMA, SHADOW_TABLE, type BenchWorld } from './lib/setup.js'

const NET_MIGRATION = 'bench_orders_net_v2'

export interface NetWorld {
  readonly dal: MigrationDal
  close(): Promise<void>
}

/** A copy of the bench tables registered as a second migration in dual_write, with the net installed in copy mode. */
export async function prepareBypassNet(world: BenchWorld): Promise<NetWorld> {
  await world.pool.query(
    `CREATE TABLE bench_orders_net (LIKE ${LEGACY_TABLE} INCLUDING ALL); CREATE TABLE bench_orders_net_v2 (LIKE ${SHADOW_TABLE} INCLUDING ALL)`,
  )
  await registerMigrations(
    world.pool,
    [
      parseMigration({
        name: NET_MIGRATION,
        legacy: { table: 'public.bench_orders_net', key: ['id'] },
        shadow: { table: 'public.bench_orders_net_v2', key: ['id'] },
        forward: { customer: 'customer_id::uuid', amount: 'amount_cents / 100.0' },
        backward: { customer_id: 'customer::text', amount_cents: '(amount * 100)::int' },
      }),
    ],
    { schema: SCHEMA, actor: 'bench' },
  )
  await applyStatePlan(
    world.pool,
    SCHEMA,
    NET_MIGRATION,
    (from) => ({
      kind: 'advance',
      from,
      to: { phase: 'dual_write', readPercent: 0, authority: 'legacy' },
      isNoop: from.phase === 'dual_write',
    }),
    { actor: 'bench', reason: 'benchmark' },
  )
  await installBypassNet(world.pool, { schema: SCHEMA, migration: NET_MIGRATION, actor: 'bench', mode: 'copy' })
  const cutover = await connectCutover(world.pool, () => 0)
  const dal = await cutover.migration(NET_MIGRATION)
  await cutover.watcher.poll()
  if (dal.state.phase !== 'dual_write')
    throw new Error(`the net migration's DAL applies ${dal.state.phase}, not dual_write`)
  return { dal, close: () => cutover.close() }
}

/** baseline: plain INSERT (no net); prepared slot: DAL insert without the net; candidate: DAL insert with it. */
export async function measureBypassNet(
  world: BenchWorld,
  net: NetWorld,
  clients: number,
  settings: RunSettings,
): Promise<Comparison> {
  return runInterleaved({
    clients,
    ...settings,
    baseline: () => plainInsert(world.pool),
    prepared: async () => {
      await world.compared.insert(orderRow(nextInsertKey()))
    },
    candidate: async () => {
      await net.dal.insert(orderRow(nextInsertKey()))
    },
  })
}

/** `bypass_net_insert_*`: the DAL with the net against the DAL without it; `*_vs_plain`: against the plain INSERT. */
export function bypassNetResults(comparison: Comparison): BenchResult[] {
  const suffix = clientSuffix(comparison.clients)
  const { candidate, baseline, prepared } = comparison
  if (!prepared) throw new Error('the bypass net measurement runs three variants')
  const against = (b: typeof baseline, tag: string): BenchResult[] => [
    result(`bypass_net_insert_p50_ratio${tag}${suffix}`, candidate.p50Ms, 'ms', b.p50Ms),
    result(`bypass_net_insert_p99_ratio${tag}${suffix}`, candidate.p99Ms, 'ms', b.p99Ms),
    result(`bypass_net_insert_ops_per_s${tag}${suffix}`, candidate.opsPerSecond, 'ops/s', b.opsPerSecond),
  ]
  return [
    ...against(prepared, ''),
    ...against(baseline, '_vs_plain'),
    result(`bypass_net_off_insert_p50_ratio_vs_plain${suffix}`, prepared.p50Ms, 'ms', baseline.p50Ms),
  ]
}
