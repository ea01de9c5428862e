/**
 * A seeded, randomised race: writers through the DAL (inserts, updates of every column, deletes,
 * re-inserts, batches, transactions that roll back) while the backfill runs and is stopped, the
 * phase advances and rolls back, and the percentage ramps. Replay a failure with CUTOVER_SEED;
 * run longer with CUTOVER_RACE_SECONDS.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal, Row } from '../../src/dal/migration-dal.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, setPhase, setupOrders } from '../support/orders-fixture.js'
import { seededRandom } from '../support/writers.js'

const db = await freshDatabase()
const seed = Number(process.env.CUTOVER_SEED ?? Date.now() % 1_000_000)
const seconds = Number(process.env.CUTOVER_RACE_SECONDS ?? 8)
const WRITERS = 6
const SEEDED = 3000
let cutover: Cutover
let dal: MigrationDal
let close: () => Promise<void>

type Model = Map<string, Row | undefined>

function fullRow(id: number, random: () => number): Row {
  return {
    id: String(id),
    customer_id: randomUUID(),
    amount_cents: Math.floor(random() * 1_000_000),
    status: ['new', 'paid', 'shipped', 'späť ✓'][Math.floor(random() * 4)],
    placed_at: new Date(1_700_000_000_000 + Math.floor(random() * 1e10)).toISOString(),
    meta: random() < 0.2 ? null : { n: Math.floor(random() * 100), tags: ['a', String(random())] },
  }
}

function patchOf(random: () => number): Row {
  const all = fullRow(0, random)
  const columns = ['customer_id', 'amount_cents', 'status', 'placed_at', 'meta'].filter(() => random() < 0.5)
  if (columns.length === 0) columns.push('status')
  return Object.fromEntries(columns.map((c) => [c, all[c]]))
}

async function writer(w: number, model: Model, until: number, failures: string[]): Promise<number> {
  const random = seededRandom(seed * 31 + w)
  const mine = (n: number) => n * WRITERS + w
  let next = SEEDED + 1
  let ops = 0
  const own = [...model.keys()].filter((k) => Number(k) % WRITERS === w)
  while (Date.now() < until) {
    const roll = random()
    const key = own[Math.floor(random() * own.length)] as string
    try {
      if (roll < 0.2) {
        const id = mine(next++)
        const row = fullRow(id, random)
        await dal.insert(row)
        model.set(String(id), row)
        own.push(String(id))
      } else if (roll < 0.5) {
        if (model.get(key)) {
          const patch = patchOf(random)
          await dal.update(key, patch)
          model.set(key, { ...model.get(key), ...patch })
        }
      } else if (roll < 0.62) {
        await dal.delete(key)
        model.set(key, undefined)
      } else if (roll < 0.72) {
        if (!model.get(key)) {
          const row = fullRow(Number(key), random)
          await dal.insert(row)
          model.set(key, row)
        }
      } else if (roll < 0.8) {
        const rows = [0, 1, 2].map(() => fullRow(mine(next++), random))
        await dal.insertMany(rows)
        for (const row of rows) {
          model.set(String(row.id), row)
          own.push(String(row.id))
        }
      } else if (roll < 0.88) {
        const client = await db.pool.connect()
        try {
          await client.query('BEGIN')
          await dal.insert(fullRow(mine(next++), random), { tx: client })
          if (model.get(key)) await dal.update(key, patchOf(random), { tx: client })
        } finally {
          // Rolled back whatever happened, so no client goes back to the pool inside a transaction.
          await client.query('ROLLBACK').catch(() => undefined)
          client.release()
        }
      } else {
        await dal.get(key)
      }
      ops++
    } catch (error) {
      failures.push(`writer ${w}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  return ops
}

async function operator(until: number, log: string[]): Promise<void> {
  const random = seededRandom(seed)
  let backfilled = false
  while (Date.now() < until) {
    const roll = random()
    if (roll < 0.3) {
      const controller = new AbortController()
      const stopAfter = random() < 0.5 ? 50 + Math.floor(random() * 400) : undefined
      if (stopAfter !== undefined) setTimeout(() => controller.abort(new Error('killed by the race')), stopAfter)
      const done = await runBackfill(db.pool, {
        schema: 'cutover',
        migration: 'orders_v2',
        actor: 'race',
        chunkRows: 200,
        targetChunkMs: 0,
        signal: controller.signal,
      }).then(
        () => true,
        () => false,
      )
      log.push(done ? 'backfill finished' : 'backfill stopped midway')
      backfilled ||= done
    } else if (roll < 0.55) {
      const percent = [1, 5, 25, 50, 100][Math.floor(random() * 5)] as number
      await setPhase(db.pool, 'ramp', percent)
      log.push(`ramp ${percent}`)
    } else if (roll < 0.7) {
      await setPhase(db.pool, 'shadow_read')
      log.push('shadow_read')
    } else if (roll < 0.8 && backfilled) {
      await setPhase(db.pool, 'shadow_primary')
      log.push('shadow_primary')
    } else {
      await setPhase(db.pool, 'dual_write')
      log.push('rollback')
    }
    await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 400)))
  }
}

beforeAll(async () => {
  await setupOrders(db)
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents, status, meta) SELECT g, gen_random_uuid()::text, g, 'seeded', '{"s": 1}' FROM generate_series(1, ${SEEDED}) g`,
  )
  const connected = await connectCutover(db, { random: seededRandom(seed + 7) })
  cutover = connected.cutover
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
  dal = await cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
})
afterAll(async () => close())

describe(`randomised race (seed ${seed}; replay with CUTOVER_SEED=${seed}, longer with CUTOVER_RACE_SECONDS)`, () => {
  it(
    'loses nothing: legacy holds exactly every committed write, nothing rolled back, and verify finds no difference',
    async () => {
      const rows = await db.query<Row>(
        'SELECT id::text, customer_id, amount_cents, status, placed_at, meta FROM orders',
      )
      const model: Model = new Map(rows.map((r) => [String(r.id), r]))
      const until = Date.now() + seconds * 1000
      const failures: string[] = []
      const log: string[] = []
      const [ops] = await Promise.all([
        Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w, model, until, failures))).then((n) =>
          n.reduce((a, b) => a + b, 0),
        ),
        operator(until, log),
      ])
      expect(failures).toEqual([])
      expect(ops).toBeGreaterThan(100)
      // Settle: dual writes, and a backfill that finishes, then compare.
      await setPhase(db.pool, 'dual_write')
      await runBackfill(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'race' })
      const verify = await runVerify(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'race' })
      expect({ log, differences: verify.differences }).toEqual({ log, differences: [] })
      const legacy = await db.query<Row>(
        `SELECT id::text, customer_id, amount_cents, status, to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS placed_at, meta FROM orders ORDER BY orders.id`,
      )
      const expected = [...model.entries()]
        .filter(([, row]) => row !== undefined)
        .sort((a, b) => Number(a[0]) - Number(b[0]))
      expect(legacy.map((r) => r.id)).toEqual(expected.map(([id]) => id))
      for (const row of legacy) {
        const want = model.get(String(row.id)) as Row
        const wantPlaced =
          want.placed_at instanceof Date ? want.placed_at.toISOString() : new Date(String(want.placed_at)).toISOString()
        expect({ ...row, placed_at: row.placed_at }).toEqual({
          id: String(want.id),
          customer_id: want.customer_id,
          amount_cents: want.amount_cents,
          status: want.status,
          placed_at: wantPlaced,
          meta: want.meta,
        })
      }
    },
    seconds * 1000 + 120_000,
  )
})
