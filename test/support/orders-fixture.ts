/** A legacy `orders` table and its new-shape shadow `orders_v2`, registered as migration `orders_v2`. */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { Registry } from 'prom-client'
import pino from 'pino'
import { authorityOf, type Phase } from '../../src/core/phases.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { Cutover, type CutoverOptions } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { applyStatePlan } from '../../src/store/state/apply-state-plan.js'
import { registerMigrations } from '../../src/actions/register.js'
import { initControl } from './control.js'
import type { TestDatabase } from './database.js'

export const ORDERS_DDL = `
  CREATE TABLE orders (
    id bigint PRIMARY KEY, customer_id varchar(36) NOT NULL, amount_cents integer NOT NULL,
    status text NOT NULL DEFAULT 'new', placed_at timestamptz NOT NULL DEFAULT now(), meta jsonb
  );
  CREATE TABLE orders_v2 (
    id bigint PRIMARY KEY, customer uuid NOT NULL, amount numeric(12,2) NOT NULL,
    status text NOT NULL, placed_at timestamptz NOT NULL, meta json,
    migrated_at timestamptz NOT NULL DEFAULT now()
  );`

/** The orders_v2 migration as written in a config file: a uuid-typed customer, cents into a numeric amount. */
export const ORDERS_CONFIG = {
  name: 'orders_v2',
  legacy: { table: 'public.orders', key: ['id'] },
  shadow: { table: 'public.orders_v2', key: ['id'] },
  forward: { customer: 'customer_id::uuid', amount: 'amount_cents / 100.0' },
  backward: { customer_id: 'customer::text', amount_cents: '(amount * 100)::int' },
} as const

export function ordersDefinition(overrides: Record<string, unknown> = {}) {
  return parseMigration({ ...ORDERS_CONFIG, ...overrides })
}

export async function setupOrders(db: TestDatabase, overrides: Record<string, unknown> = {}): Promise<void> {
  await initControl(db.pool)
  await db.query(ORDERS_DDL)
  await registerMigrations(db.pool, [ordersDefinition(overrides)], { schema: 'cutover', actor: 'test' })
}

/** Sets the phase directly (no gates), as an operator's command would, with an event row. */
export async function setPhase(
  pool: pg.Pool,
  phase: Phase,
  readPercent?: number,
  migration = 'orders_v2',
): Promise<void> {
  const percent = readPercent ?? (phase === 'shadow_primary' || phase === 'complete' ? 100 : 0)
  await applyStatePlan(
    pool,
    'cutover',
    migration,
    (from) => ({
      kind: 'advance',
      from,
      to: { phase, readPercent: percent, authority: authorityOf(phase) },
      isNoop: from.phase === phase && from.readPercent === percent,
    }),
    { actor: 'test', reason: 'test' },
  )
}

export function order(id: number | string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: String(id),
    customer_id: randomUUID(),
    amount_cents: 1234,
    status: 'new',
    placed_at: '2026-01-02T03:04:05.678+00',
    meta: { a: 1, b: [1, 2] },
    ...overrides,
  }
}

export const silentLogger = pino({ level: 'silent' })

/** A Cutover on its own pool and registry; `random` fixed at 0 and a high bound in flight (unless given), so every eligible read is compared. */
export async function connectCutover(
  db: TestDatabase,
  options: { random?: () => number; registry?: Registry; comparisons?: CutoverOptions['comparisons'] } = {},
): Promise<{ cutover: Cutover; pool: pg.Pool; registry: Registry }> {
  const pool = new pg.Pool({ connectionString: db.url, max: 10 })
  pool.on('error', () => undefined)
  const registry = options.registry ?? new Registry()
  const cutover = await Cutover.connect({
    pool,
    registry,
    logger: silentLogger,
    random: options.random ?? (() => 0),
    fallbackPollMs: 100,
    comparisons: { maxInFlight: 100, ...options.comparisons },
  })
  return { cutover, pool, registry }
}

export async function rowsOf(db: TestDatabase, table: 'orders' | 'orders_v2'): Promise<Record<string, unknown>[]> {
  return table === 'orders'
    ? db.query('SELECT id::text, customer_id, amount_cents, status FROM orders ORDER BY id')
    : db.query(
        'SELECT id::text, customer::text AS customer_id, (amount * 100)::int AS amount_cents, status FROM orders_v2 ORDER BY id',
      )
}

/**
 * The orders migration registered and in dual_write, with a Cutover that has applied it: the DAL the crash and
 * race tests write through while a job runs. `close` closes the Cutover and its pool.
 */
export async function dualWritingOrders(db: TestDatabase): Promise<{ dal: MigrationDal; close: () => Promise<void> }> {
  await setupOrders(db)
  const connected = await connectCutover(db, { random: () => 1 })
  const dal = await connected.cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await connected.cutover.watcher.poll()
  return {
    dal,
    close: async () => {
      await connected.cutover.close()
      await connected.pool.end()
    },
  }
}
