/** The benchmark's world: a fresh database, a legacy table and its shadow, the registered migration, and Cutovers on one pool. */
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import pino from 'pino'
import { Registry } from 'prom-client'
import { authorityOf, type Phase } from '../../src/core/phases.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal, Row } from '../../src/dal/migration-dal.js'
import { migrationShape, type MigrationShape } from '../../src/shape/migration-shape.js'
import { applyControlSchema } from '../../src/store/control-schema/apply-control-schema.js'
import { loadMigration } from '../../src/store/definitions/definitions.js'
import { registerMigrations } from '../../src/actions/register.js'
import { applyStatePlan } from '../../src/store/state/apply-state-plan.js'

export const SCHEMA = 'cutover'
export const MIGRATION = 'bench_orders_v2'
export const LEGACY_TABLE = 'bench_orders'
export const SHADOW_TABLE = 'bench_orders_v2'

/** Keys 1…READ_ROWS are read, never written; the next UPDATE_ROWS are updated; inserts start at INSERT_KEY_START. */
export const READ_ROWS = 20_000
export const UPDATE_ROWS = 8_000
export const INSERT_KEY_START = 10_000_000

/** The guardrails README recommends; on in every DAL measurement, as in production. */
export const RECOMMENDED_GUARDRAILS = {
  maxDivergencesPerMinute: 10,
  maxP99Ratio: 3,
  windowSeconds: 60,
  minSamples: 50,
} as const

// A type change (varchar → uuid), renames with a scale change (amount_cents → amount numeric(12,2)),
// jsonb, a shadow-only column with a default, and a secondary index on each side.
const DDL = `
  CREATE TABLE bench_orders (
    id bigint PRIMARY KEY, customer_id varchar(36) NOT NULL, amount_cents integer NOT NULL,
    status text NOT NULL DEFAULT 'new', placed_at timestamptz NOT NULL DEFAULT now(), meta jsonb, note text
  );
  CREATE INDEX bench_orders_customer ON bench_orders (customer_id);
  CREATE TABLE bench_orders_v2 (
    id bigint PRIMARY KEY, customer uuid NOT NULL, amount numeric(12,2) NOT NULL,
    status text NOT NULL, placed_at timestamptz NOT NULL, meta jsonb, note text,
    migrated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX bench_orders_v2_customer ON bench_orders_v2 (customer);`

export interface BenchDatabase {
  readonly name: string
  readonly url: string
  /** Drops the database (closing its connections). Safe to call twice. */
  drop(): Promise<void>
}

export interface BenchWorld {
  /** The pool both baselines and the DAL run through. */
  readonly pool: pg.Pool
  /** Every eligible read compared (`random: () => 0`); also used for the writes. */
  readonly compared: MigrationDal
  /** Reads compared at the default sample (`random`: Math.random). */
  readonly sampled: MigrationDal
  readonly shape: MigrationShape
  /** Moves the migration to `phase` directly (no gates) and waits until both Cutovers apply it. */
  setPhase(phase: Phase, readPercent?: number): Promise<void>
  close(): Promise<void>
}

export const silentLogger = pino({ level: 'silent' })

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

async function asAdmin(serverUrl: string, text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  try {
    await admin.query(text)
  } finally {
    await admin.end()
  }
}

/** Creates `cutover_bench_<random>` on the server `serverUrl` points at (a role with CREATEDB). */
export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `cutover_bench_${randomBytes(5).toString('hex')}`
  await asAdmin(serverUrl, `CREATE DATABASE "${name}"`)
  let dropped = false
  return {
    name,
    url: databaseUrl(serverUrl, name),
    drop: async () => {
      if (dropped) return
      dropped = true
      await asAdmin(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    },
  }
}

/** A legacy-shaped order row with key `id`. */
export function orderRow(id: number): Row {
  return {
    id,
    customer_id: randomUUID(),
    amount_cents: 1000 + (id % 9000),
    status: 'new',
    placed_at: '2026-01-02T03:04:05.678Z',
    meta: { channel: 'web', items: [{ sku: `sku-${id % 97}`, qty: 1 + (id % 3) }], coupon: null },
    note: 'leave at the door',
  }
}

export async function connectCutover(pool: pg.Pool, random?: () => number): Promise<Cutover> {
  return Cutover.connect({
    pool,
    registry: new Registry(),
    logger: silentLogger,
    schema: SCHEMA,
    ...(random ? { random } : {}),
  })
}

/**
 * Applies the control schema, creates both tables, registers the migration,
 * connects two Cutovers on one pool of `poolSize` connections, moves to
 * `dual_write` and fills the read and update key ranges through the DAL.
 */
export async function createWorld(url: string, poolSize: number): Promise<BenchWorld> {
  // One spare connection, so the Cutovers' heartbeats never queue behind the measured clients.
  const pool = new pg.Pool({ connectionString: url, max: poolSize + 1 })
  pool.on('error', () => undefined)
  await applyControlSchema(pool, { schema: SCHEMA })
  await pool.query(DDL)
  await registerMigrations(
    pool,
    [
      parseMigration({
        name: MIGRATION,
        legacy: { table: `public.${LEGACY_TABLE}`, key: ['id'] },
        shadow: { table: `public.${SHADOW_TABLE}`, key: ['id'] },
        forward: { customer: 'customer_id::uuid', amount: 'amount_cents / 100.0' },
        backward: { customer_id: 'customer::text', amount_cents: '(amount * 100)::int' },
        compare: { placed_at: 'timestamp_ms' },
        guardrails: RECOMMENDED_GUARDRAILS,
      }),
    ],
    { schema: SCHEMA, actor: 'bench' },
  )
  const client = await pool.connect()
  let shape: MigrationShape
  try {
    shape = migrationShape(await loadMigration(client, SCHEMA, MIGRATION))
  } finally {
    client.release()
  }
  const cutovers = [await connectCutover(pool, () => 0), await connectCutover(pool)]
  const [compared, sampled] = (await Promise.all(cutovers.map((c) => c.migration(MIGRATION)))) as [
    MigrationDal,
    MigrationDal,
  ]
  const setPhase = async (phase: Phase, readPercent?: number): Promise<void> => {
    const percent = readPercent ?? (phase === 'shadow_primary' || phase === 'complete' ? 100 : 0)
    await applyStatePlan(
      pool,
      SCHEMA,
      MIGRATION,
      (from) => ({
        kind: 'advance',
        from,
        to: { phase, readPercent: percent, authority: authorityOf(phase) },
        isNoop: from.phase === phase && from.readPercent === percent,
      }),
      { actor: 'bench', reason: 'benchmark' },
    )
    for (const cutover of cutovers) await cutover.watcher.poll()
  }
  await setPhase('dual_write')
  const batch = 1000
  for (let first = 1; first <= READ_ROWS + UPDATE_ROWS; first += batch) {
    await compared.insertMany(Array.from({ length: batch }, (_, i) => orderRow(first + i)))
  }
  for (const table of [LEGACY_TABLE, SHADOW_TABLE]) await pool.query(`VACUUM ANALYZE ${table}`)
  return {
    pool,
    compared,
    sampled,
    shape,
    setPhase,
    close: async () => {
      for (const cutover of cutovers) await cutover.close().catch(() => undefined)
      await pool.end().catch(() => undefined)
    },
  }
}
