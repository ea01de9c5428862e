// The README's bypass-net example, runnable as written: DATABASE_URL=postgres://… npx tsx examples/bypass-net.ts
import pg from 'pg'
import {
  advance,
  applyControlSchema,
  installBypassNet,
  parseMigration,
  registerMigrations,
  removeBypassNet,
  runPrecheck,
  runVerify,
} from '../src/index.js'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
await pool.query(`
  CREATE TABLE IF NOT EXISTS accounts (id bigint PRIMARY KEY, name text NOT NULL);
  CREATE TABLE IF NOT EXISTS accounts_v2 (id bigint PRIMARY KEY, full_name text NOT NULL);`)
await applyControlSchema(pool)
await registerMigrations(
  pool,
  [
    parseMigration({
      name: 'accounts_v2',
      legacy: { table: 'public.accounts', key: ['id'] },
      shadow: { table: 'public.accounts_v2', key: ['id'] },
      forward: { full_name: 'name' },
      backward: { name: 'full_name' },
    }),
  ],
  { schema: 'cutover', actor: 'example' },
)
const op = { schema: 'cutover', migration: 'accounts_v2', actor: 'example', reason: 'a nightly job writes accounts' }
await runPrecheck(pool, op) // the evidence dual_write needs: every legacy row maps
await advance(pool, { ...op, to: 'dual_write' })

// As the legacy table's owner (`cutover net install accounts_v2 --mode copy`):
await installBypassNet(pool, { ...op, mode: 'copy' })

// A writer that knows nothing of cutover: a psql session, a cron job, another service.
const cron = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: 'nightly_import' })
await cron.connect()
await cron.query("INSERT INTO accounts VALUES (1, 'Grace Hopper'), (2, 'Edsger Dijkstra')")
await cron.query("UPDATE accounts SET name = 'Grace B. Hopper' WHERE id = 1")
await cron.end()

// Copied to the shadow in the writer's own transaction, and counted by writer.
console.log((await pool.query('SELECT id, full_name FROM accounts_v2 ORDER BY id')).rows)
console.log(
  (
    await pool.query(
      "SELECT application_name, op, writes FROM cutover.bypass_write_totals() WHERE migration = 'accounts_v2' ORDER BY op",
    )
  ).rows,
)
console.log('verify clean:', (await runVerify(pool, op)).clean)

await removeBypassNet(pool, op) // `cutover net remove accounts_v2`; a rollback or a retire also removes it
await pool.end()
