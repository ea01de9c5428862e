/**
 * The orders fixture on an embedded PostgreSQL of the test file's own, which it may crash and restart, with
 * application writers running through the DAL the whole time.
 */
import pg from 'pg'
import { expect } from 'vitest'
import { startEmbeddedServer, type EmbeddedServer } from '../../src/demo/embedded-server.js'
import { runCli } from './cli.js'
import { databaseUrl, type TestDatabase } from './database.js'
import { connectCutover, setPhase, setupOrders } from './orders-fixture.js'
import { startRangeWriters } from './range-writers.js'

export interface RestartableOrders {
  readonly server: EmbeddedServer
  readonly db: TestDatabase
  /** Runs a CLI job and, once `when` holds, restarts the server as a crash would; the run must end with exit code 3. */
  crashDuring(args: readonly string[], when: () => Promise<boolean>): Promise<void>
  /** Stops the writers: how many writes they did and how many failed (during the restarts). */
  stopWriters(): Promise<{ writes: number; errors: number }>
  close(): Promise<void>
}

/** `rows` legacy rows in `dual_write`; the writers update keys up to rows / 2 and insert keys from 1,000,000. */
export async function startRestartableOrders(rows: number, seed: number): Promise<RestartableOrders> {
  // Synchronous commits, so that a commit the tool saw survives the crash.
  const server = await startEmbeddedServer({ postgresFlags: ['-c', 'synchronous_commit=on'] })
  const admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
  await admin.query('CREATE DATABASE crash').finally(() => admin.end())
  const url = databaseUrl(server.url, 'crash')
  const pool = new pg.Pool({ connectionString: url, max: 6 })
  pool.on('error', () => undefined)
  const db: TestDatabase = {
    url,
    name: 'crash',
    pool,
    query: async (text, values) => (await pool.query(text, values)).rows,
  }
  await setupOrders(db)
  const connected = await connectCutover(db, { random: () => 1 })
  const dal = await connected.cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await connected.cutover.watcher.poll()
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents, status, meta)
                  SELECT g, gen_random_uuid()::text, g % 100000, 'new', jsonb_build_object('g', g) FROM generate_series(1, $1::int) g`,
    [rows],
  )
  await db.query('ANALYZE orders')
  const writers = startRangeWriters(dal, { count: 2, updateKeys: rows / 2, firstNewKey: 1_000_000, seed })
  let stopped: Promise<{ writes: number; errors: number }> | undefined

  async function reachable(): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await db.query('SELECT 1')
        return
      } catch (error) {
        if (i > 100) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }

  return {
    server,
    db,
    async crashDuring(args, when) {
      const run = runCli(args)
      let exited = false
      void run.finally(() => {
        exited = true
      })
      while (!exited && !(await when().catch(() => false))) await new Promise((resolve) => setTimeout(resolve, 25))
      expect(exited, 'the run ended before the crash point').toBe(false)
      await server.restart({ downMs: 300 })
      const result = await run
      expect(result.code, result.stderr).toBe(3)
      expect(result.stderr).toMatch(/^cutover: (cannot reach the database|\w+ of orders_v2 \(job \d+\) failed: )/)
      await reachable()
    },
    stopWriters: () => (stopped ??= writers.stop()),
    async close() {
      await (stopped ??= writers.stop()).catch(() => undefined)
      await connected.cutover.close().catch(() => undefined)
      await connected.pool.end().catch(() => undefined)
      await pool.end().catch(() => undefined)
      await server.stop()
    },
  }
}
