// The README's group example, runnable as written: DATABASE_URL=postgres://… npx tsx examples/groups.ts
import pg from 'pg'
import { Registry } from 'prom-client'
import {
  advance,
  applyControlSchema,
  Cutover,
  GroupMemberMovedAlone,
  parseConfig,
  ramp,
  registerMigrations,
  rollback,
  runBackfills,
  runPrechecks,
  runVerifies,
} from '../src/index.js'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
await pool.query(`
  CREATE TABLE IF NOT EXISTS studio_session (id bigint PRIMARY KEY, name text NOT NULL, budget_cents integer NOT NULL);
  CREATE TABLE IF NOT EXISTS flow (id bigint PRIMARY KEY, session_id bigint NOT NULL REFERENCES studio_session (id), title text NOT NULL);
  CREATE TABLE IF NOT EXISTS collection_session (id bigint PRIMARY KEY, name text NOT NULL, budget numeric(12,2) NOT NULL);
  CREATE TABLE IF NOT EXISTS generation_flow (id bigint PRIMARY KEY, session_id bigint NOT NULL REFERENCES collection_session (id), title text NOT NULL);`)

// Two related tables renamed together: one group, one phase, one read percentage, one rollback.
await applyControlSchema(pool)
await registerMigrations(
  pool,
  parseConfig({
    migrations: [
      {
        name: 'sessions_v2',
        legacy: { table: 'public.studio_session', key: ['id'] },
        shadow: { table: 'public.collection_session', key: ['id'] },
        forward: { budget: 'budget_cents / 100.0' },
        backward: { budget_cents: '(budget * 100)::int' },
      },
      {
        name: 'flows_v2',
        legacy: { table: 'public.flow', key: ['id'] },
        shadow: { table: 'public.generation_flow', key: ['id'] },
      },
    ],
    groups: [{ name: 'studio', migrations: ['sessions_v2', 'flows_v2'] }],
  }),
  { schema: 'cutover', actor: 'example' },
)

const cutover = await Cutover.connect({ pool, registry: new Registry() })
const studio = await cutover.group('studio')
const op = { schema: 'cutover', migration: 'studio', actor: 'example' }

// A member never moves alone: the refusal names the group (`cutover advance studio`).
const alone = await advance(pool, { ...op, migration: 'flows_v2' }).catch((error: unknown) => error)
if (!(alone instanceof GroupMemberMovedAlone)) throw new Error('a member moved alone must be refused')
// Precheck every member, parents first (a child's rows are judged against the parent rows they reference, as the
// backfill will copy them); then both members to dual_write, one event.
await runPrechecks(pool, op)
await advance(pool, op)
await cutover.watcher.poll() // state changes arrive by LISTEN/NOTIFY within a second; poll() just makes the example deterministic
await studio.migration('sessions_v2')?.insert({ id: 1, name: 'spring', budget_cents: 1250 })
await studio.migration('flows_v2')?.insert({ id: 10, session_id: 1, title: 'hero shots' })

// Backfill parents before children, verify each member; then ramp the whole group.
await runBackfills(pool, op)
await runVerifies(pool, op)
await advance(pool, { ...op, to: 'shadow_read' })
await ramp(pool, { ...op, percent: 50 })
await cutover.watcher.poll()

// A routing key reads every member from the same side; a join reads all of its tables from that side.
const rows = await studio.select(
  (t) =>
    t
      .from('sessions_v2')
      .innerJoin(t.table('flows_v2'), 'flow.session_id', 'studio_session.id')
      .select(['studio_session.name', 'studio_session.budget_cents', 'flow.title']),
  { routingKey: 'tenant-42' },
)
console.log(studio.sideFor('tenant-42'), rows) // [ { name: 'spring', budget_cents: 1250, title: 'hero shots' } ]

// One command puts both back on legacy: `cutover rollback studio`.
const back = await rollback(pool, op)
console.log(back.members, back.to) // [ 'flows_v2', 'sessions_v2' ] { phase: 'dual_write', readPercent: 0 }

await cutover.close()
await pool.end()
