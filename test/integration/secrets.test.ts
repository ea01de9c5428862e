import { Writable } from 'node:stream'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Cutover } from '../../src/cutover/cutover.js'
import { createLogger } from '../../src/logger.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { ORDERS_DDL, order } from '../support/orders-fixture.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const PASSWORD = 'canary-Pw-7Qz!x'

describe('secrets', { timeout: 180_000 }, () => {
  it('never show the password in CLI output, --json, errors, logs, events or divergence rows', async () => {
    await db.query(`CREATE ROLE secret_operator LOGIN SUPERUSER PASSWORD '${PASSWORD}'`)
    const url = new URL(db.url)
    url.username = 'secret_operator'
    url.password = PASSWORD
    const secretUrl = url.toString()
    await db.query(ORDERS_DDL)
    await db.query(
      `INSERT INTO orders (id, customer_id, amount_cents) SELECT g, gen_random_uuid()::text, g FROM generate_series(1, 50) g`,
    )
    const dir = await tempDir('cutover-secrets-')
    const config = join(dir, 'c.json')
    await writeFile(
      config,
      JSON.stringify({
        migrations: [
          {
            name: 'orders_v2',
            legacy: { table: 'orders', key: ['id'] },
            shadow: { table: 'orders_v2', key: ['id'] },
            forward: { customer: 'customer_id::uuid', amount: 'amount_cents / 100.0' },
            backward: { customer_id: 'customer::text', amount_cents: '(amount * 100)::int' },
          },
        ],
      }),
    )
    const outputs: string[] = []
    const cli = async (...args: string[]) => {
      const result = await runCli(args, { DATABASE_URL: secretUrl, CUTOVER_LOG_LEVEL: 'debug' })
      outputs.push(result.stdout, result.stderr)
      return result
    }
    expect((await cli('init')).code).toBe(0)
    expect((await cli('register', '--config', config)).code).toBe(0)
    expect((await cli('precheck', 'orders_v2', '--json')).code).toBe(0)
    expect((await cli('advance', 'orders_v2', '--json')).code).toBe(0)
    expect((await cli('backfill', 'orders_v2', '--json')).code).toBe(0)

    // The application side, logging at debug into a buffer.
    let logs = ''
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs += String(chunk)
        done()
      },
    })
    const logger = createLogger({ level: 'debug', destination: sink })
    logger.info({ connectionString: secretUrl, nested: { databaseUrl: secretUrl } }, `connecting to ${secretUrl}`)
    const pool = new pg.Pool({ connectionString: secretUrl, max: 4 })
    const cutover = await Cutover.connect({
      pool,
      registry: new Registry(),
      logger,
      random: () => 0,
      fallbackPollMs: 50,
      comparisons: { maxInFlight: 100 },
    })
    const dal = await cutover.migration('orders_v2')
    await dal.insert(order(500))
    await cli('advance', 'orders_v2')
    await cutover.watcher.poll()
    await db.query("UPDATE orders_v2 SET status = 'x' WHERE id = 1")
    await dal.get(1)
    await db.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cutover-listener' AND datname = current_database()",
    )
    await new Promise((r) => setTimeout(r, 300))
    await cutover.close()
    await pool.end()

    expect((await cli('verify', 'orders_v2', '--json')).code).toBe(1)
    expect((await cli('status', '--json')).code).toBe(0)
    expect((await cli('divergences', 'orders_v2', '--json')).code).toBe(0)
    expect((await cli('rollback', 'orders_v2', '--json')).code).toBe(0)
    const unreachable = new URL(secretUrl)
    unreachable.port = '1'
    outputs.push((await runCli(['status', '--database-url', unreachable.toString()])).stderr)
    const wrongDb = new URL(secretUrl)
    wrongDb.pathname = '/no_such_db'
    outputs.push((await runCli(['status', '--json', '--database-url', wrongDb.toString()])).stdout)
    outputs.push(logs)

    const control = await db.query<{ dump: string }>(`SELECT concat_ws('|',
      (SELECT json_agg(e)::text FROM cutover.events e), (SELECT json_agg(d)::text FROM cutover.divergences d),
      (SELECT json_agg(m)::text FROM cutover.migrations m), (SELECT json_agg(j)::text FROM cutover.jobs j),
      (SELECT json_agg(i)::text FROM cutover.instances i)) AS dump`)
    outputs.push(control[0]?.dump ?? '')

    const everything = outputs.join('\n')
    expect(everything).toContain('secret_operator')
    expect(logs).toContain('state listener lost')
    expect(everything).not.toContain(PASSWORD)
    expect(everything).not.toContain(encodeURIComponent(PASSWORD))
  })
})
