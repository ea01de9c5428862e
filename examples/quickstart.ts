// The README's example, runnable as written: DATABASE_URL=postgres://… npx tsx examples/quickstart.ts
import { Kysely, PostgresDialect, type ColumnType } from 'kysely'
import pg from 'pg'
import { Registry } from 'prom-client'
import {
  advance,
  applyControlSchema,
  ConfirmationRequired,
  Cutover,
  GateRefused,
  parseMigration,
  ramp,
  registerMigrations,
  runBackfill,
  runPrecheck,
  runVerify,
} from '../src/index.js'

// Your Kysely database type (written by hand or by kysely-codegen): the DAL checks rows against it.
interface Database {
  users: { id: ColumnType<string, number | string, never>; email: string; full_name: string } // bigint: read as a string, written as either, never updated
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })

// Your tables: the legacy one the application uses, and the new shape.
await pool.query(`
  CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email varchar(200) NOT NULL, full_name text NOT NULL);
  CREATE TABLE IF NOT EXISTS users_v2 (id bigint PRIMARY KEY, email text NOT NULL, first_name text NOT NULL, last_name text NOT NULL);`)

// Once per database: the control schema, then the migration (the CLI does both: `cutover init`, `cutover register`).
await applyControlSchema(pool)
await registerMigrations(
  pool,
  [
    parseMigration({
      name: 'users_v2',
      legacy: { table: 'public.users', key: ['id'] },
      shadow: { table: 'public.users_v2', key: ['id'] },
      forward: {
        first_name: "split_part(full_name, ' ', 1)",
        last_name: "substr(full_name, length(split_part(full_name, ' ', 1)) + 2)",
      },
      backward: { full_name: "concat_ws(' ', first_name, nullif(last_name, ''))" },
      compare: { email: 'lower' },
    }),
  ],
  { schema: 'cutover', actor: 'quickstart' },
)

// In the application: one Cutover per process, one DAL per migration. `<Database>` and `<'users'>` (the legacy
// table) give the DAL that table's Kysely row types: a misspelt column does not compile. Both are optional.
const cutover = await Cutover.connect<Database>({ pool, registry: new Registry() })
const users = await cutover.migration<'users'>('users_v2')

// Before any write depends on the mapping: every legacy row must map (usually `cutover precheck users_v2`).
const precheck = await runPrecheck(pool, { schema: 'cutover', migration: 'users_v2', actor: 'quickstart' })
if (!precheck.clean) throw new Error(`rows the mapping cannot carry: ${JSON.stringify(precheck.classes)}`)

// An operator moves the phase (here through the library; usually `cutover advance users_v2`).
await advance(pool, {
  schema: 'cutover',
  migration: 'users_v2',
  to: 'dual_write',
  actor: 'quickstart',
  reason: 'example',
})
await cutover.watcher.poll() // state changes arrive by LISTEN/NOTIFY within a second; poll() just makes the example deterministic

// Writes go to both tables in one statement, in the legacy shape.
await users.insert({ id: 1, email: 'ada@example.com', full_name: 'Ada Lovelace' })
await db.transaction().execute(async (trx) => {
  await users.insert({ id: 2, email: 'alan@example.com', full_name: 'Alan Turing' }, { tx: trx })
  await users.update(2, { email: 'turing@example.com' }, { tx: trx })
})

// Ramp reads to the shadow. From code the gates are the CLI's: entering ramp needs a finished backfill and a clean verify after it.
const op = { schema: 'cutover', migration: 'users_v2', actor: 'quickstart' }
await advance(pool, { ...op, to: 'shadow_read' })
const refused = await ramp(pool, { ...op, percent: 100 }).catch((error: unknown) => error)
if (!(refused instanceof GateRefused)) throw new Error('ramp without a backfill must be refused')
console.log(refused.message) // users_v2: gate "ramp" not met: no finished backfill; run: cutover backfill users_v2
await runBackfill(pool, op)
await runVerify(pool, op)
await ramp(pool, { ...op, percent: 100 }) // 100 % of routing keys read users_v2, returned in the legacy shape

// `force: true` overrides an evidence gate (recorded in the event), never the confirmation of complete, the one-way step:
// that takes `confirm: true` (`--confirm` on the CLI), whatever `force` says.
const unconfirmed = await advance(pool, { ...op, to: 'shadow_primary', force: true })
  .then(() => advance(pool, { ...op, to: 'complete', force: true }))
  .catch((error: unknown) => error)
if (!(unconfirmed instanceof ConfirmationRequired)) throw new Error('complete without confirm must be refused')
await cutover.watcher.poll()
console.log(await users.get(2, { routingKey: 'tenant-42' }))
console.log(await users.select((from) => from.selectAll().where('email', 'like', '%@example.com').orderBy('id')))

await cutover.close()
await db.destroy()
