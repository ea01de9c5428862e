/**
 * An application process for the pooler tests: mixed DAL writes and compared
 * reads through the pool on $CUTOVER_CHILD_URL (the environment: ps shows a command line) from four concurrent loops, a third outside any transaction, a third
 * inside pg transactions and a third inside Kysely transactions, on keys of
 * its own from argv[3] (each loop its own keys: two transactions updating the same
 * two rows in opposite orders deadlock with or without cutover, and that is the
 * application's affair, not what this test is about). Prints one JSON line: operations, errors (the first
 * few messages), the statement mode, and compared reads by result.
 * Usage: CUTOVER_CHILD_URL=<pool url> pooled-dal-child.ts <operations> <first key> <seed>
 */
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import pino from 'pino'
import { Registry } from 'prom-client'
import { Cutover } from '../../src/cutover/cutover.js'
import type { CallOptions } from '../../src/dal/migration-dal.js'
import { order } from './orders-fixture.js'
import { seededRandom } from './writers.js'

const url = process.env.CUTOVER_CHILD_URL
const [opsArg, firstKeyArg, seedArg] = process.argv.slice(2)
const total = Number(opsArg)
const random = seededRandom(Number(seedArg))
let nextKey = Number(firstKeyArg)

const pool = new pg.Pool({ connectionString: url, max: 6 })
pool.on('error', () => undefined)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
const registry = new Registry()
const cutover = await Cutover.connect({ pool, registry, logger: pino({ level: 'silent' }), random: () => 0 })
const dal = await cutover.migration('orders_v2')

let done = 0
let started = 0
const errors: string[] = []
let errorCount = 0

/** One DAL call, picked at random, on the calling loop's own keys (`live`). */
async function operation(tx: CallOptions, live: number[]): Promise<void> {
  started++
  const roll = random()
  const key = live.length > 0 ? (live[Math.floor(random() * live.length)] as number) : undefined
  try {
    if (roll < 0.3 || key === undefined) {
      const id = nextKey++
      await dal.insert(order(id, { amount_cents: Math.floor(random() * 100_000) }), tx)
      live.push(id)
    } else if (roll < 0.45) {
      await dal.update(
        key,
        { status: `s${Math.floor(random() * 1000)}`, amount_cents: Math.floor(random() * 100_000) },
        tx,
      )
    } else if (roll < 0.55) {
      await dal.upsert(order(key, { status: 'upserted' }), tx)
    } else if (roll < 0.6) {
      await dal.delete(key, tx)
      const at = live.indexOf(key)
      if (at >= 0) live.splice(at, 1)
    } else if (roll < 0.9) {
      await dal.get(key, { ...tx, routingKey: `tenant-${key}` })
    } else {
      await dal.select((from) => from.selectAll().where('orders.id', '=', String(key)), {
        ...tx,
        routingKey: `tenant-${key}`,
      })
    }
  } catch (error) {
    errorCount++
    if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error))
    throw error
  } finally {
    done++
  }
}

/** One of several concurrent loops of this process, as an application serves several requests at once. */
async function loop(): Promise<void> {
  const live: number[] = []
  while (started < total) {
    const kind = random()
    try {
      if (kind < 1 / 3) {
        await operation({}, live)
      } else if (kind < 2 / 3) {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          for (let i = 0; i < 3 && started < total; i++) await operation({ tx: client }, live)
          await client.query('COMMIT')
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined)
          throw error
        } finally {
          client.release()
        }
      } else {
        await kysely.transaction().execute(async (trx) => {
          for (let i = 0; i < 3 && started < total; i++) await operation({ tx: trx }, live)
        })
      }
    } catch {
      // Counted in operation(); a failed transaction rolled back, so the model may be off: that is a failure anyway.
    }
  }
}
await Promise.all([1, 2, 3, 4].map(() => loop()))

await cutover.flush()
const comparisons = (await registry.getSingleMetric('cutover_comparisons_total')?.get())?.values ?? []
const compared = Object.fromEntries(comparisons.map((v) => [String(v.labels.result), v.value]))
process.stdout.write(
  `${JSON.stringify({ operations: done, errors: errorCount, messages: errors, statementMode: cutover.statementMode, compared })}\n`,
)
await cutover.close()
await kysely.destroy()
