/**
 * Issue 23, findings 2-4: what each of the README's roles cannot do through cutover, run as those roles with
 * exactly the grants in sql/grants/: no role makes another run its SQL, edits a definition outside register,
 * moves a phase forward or forges the audit trail.
 */
import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { registerMigrations } from '../../src/actions/register.js'
import { ConfigInvalid } from '../../src/core/errors.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, setPhase, setupOrders } from '../support/orders-fixture.js'
import { applyGrants, loginRole } from '../support/roles.js'

const db = await freshDatabase()
const suffix = randomBytes(4).toString('hex')
const app = `app_${suffix}`
const ops = `ops_${suffix}`
const planterName = `planter_${suffix}`
let appClient: pg.Client
let opsClient: pg.Client
let planter: pg.Client

const PEOPLE = {
  name: 'people_v2',
  legacy: { table: 'public.people', key: ['id'] },
  shadow: { table: 'public.people_v2', key: ['id'] },
  forward: { email_lower: 'lower(email)' },
}

beforeAll(async () => {
  await setupOrders(db)
  await db.query(`CREATE TABLE public.canary (who text NOT NULL); GRANT INSERT, SELECT ON public.canary TO PUBLIC;
    CREATE TABLE people (id bigint PRIMARY KEY, email varchar(100) NOT NULL);
    CREATE TABLE people_v2 (id bigint PRIMARY KEY, email varchar(100) NOT NULL, email_lower text NOT NULL);
    CREATE TABLE owner_only (secret text); INSERT INTO owner_only VALUES ('owner''s secret');
    INSERT INTO people SELECT g, 'Person' || g || '@Example.com' FROM generate_series(1, 20) g`)
  appClient = await loginRole(db, app, 'application')
  opsClient = await loginRole(db, ops, 'operator')
  await applyGrants(db, 'operator', ops, { legacy: 'public.people', shadow: 'public.people_v2' })
  // A role that may only read the legacy table, on a cluster where anyone may create in public (PostgreSQL 14 and before).
  planter = await loginRole(db, planterName)
  await db.query(`GRANT SELECT ON people TO "${planterName}"; GRANT CREATE ON SCHEMA public TO PUBLIC`)
})

beforeEach(async () => {
  await db.query('TRUNCATE public.canary')
})

async function escalations(attacker: string): Promise<string[]> {
  return (
    await db.query<{ who: string }>('SELECT DISTINCT who FROM public.canary WHERE who <> $1 ORDER BY 1', [attacker])
  ).map((r) => r.who)
}

describe('a role that may only create in public', () => {
  it('cannot have its lower(varchar) run by the DAL, the backfill or register: the mapping is resolved in pg_catalog', async () => {
    // lower(email) on a varchar column: an exact-match lower(varchar) in public beats pg_catalog.lower(text) by name lookup.
    await planter.query(`CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql AS
                           $$ INSERT INTO public.canary SELECT current_user; SELECT pg_catalog.lower($1::text) $$`)
    await registerMigrations(db.pool, [parseMigration(PEOPLE)], { schema: 'cutover', actor: 'owner' })
    const [stored] = await db.query<{ resolved: string }>(
      `SELECT definition #>> '{resolved,forward,email_lower}' AS resolved FROM cutover.migrations WHERE name = 'people_v2'`,
    )
    expect(stored?.resolved).toBe('lower((email)::text)')
    await setPhase(db.pool, 'dual_write', 0, 'people_v2')
    await runBackfill(db.pool, { schema: 'cutover', migration: 'people_v2', actor: 'ops', targetChunkMs: 0 })
    const { cutover, pool } = await connectCutover(db)
    try {
      const dal = await cutover.migration('people_v2')
      await dal.insert({ id: '100', email: 'New@Example.com' })
    } finally {
      await cutover.close()
      await pool.end()
    }
    expect(await escalations(planterName)).toEqual([])
    expect(await db.query(`SELECT email_lower FROM people_v2 WHERE id IN (1, 100) ORDER BY id`)).toEqual([
      { email_lower: 'person1@example.com' },
      { email_lower: 'new@example.com' },
    ])
    await db.query('DROP FUNCTION public.lower(varchar)')
  })
})

describe('the operator', () => {
  it('cannot edit a stored definition or create a state row by hand', async () => {
    await expect(
      opsClient.query(
        `UPDATE cutover.migrations SET definition = jsonb_set(definition, '{forward,amount}', '"(SELECT 1)"')`,
      ),
    ).rejects.toMatchObject({ code: '42501' })
    await expect(opsClient.query(`INSERT INTO cutover.state (migration) VALUES ('orders_v2')`)).rejects.toMatchObject({
      code: '42501',
    })
  })

  it("cannot register a mapping that reads a table it may not read, which the owner's net would run as the owner", async () => {
    const before = await db.query('SELECT definition FROM cutover.migrations WHERE name = $1', ['people_v2'])
    const forged = { ...PEOPLE, forward: { email_lower: '(SELECT secret FROM public.owner_only LIMIT 1)' } }
    // Straight to the one door, past the CLI's own checks (its EXPLAIN of the mapping is refused for the grant too).
    const refused = await opsClient
      .query(
        `SELECT * FROM cutover.register_definition('people_v2', $1::jsonb, 'people', 'people_v2', 'ops', NULL, true, '{}')`,
        [JSON.stringify(forged)],
      )
      .catch((e: unknown) => e)
    expect(refused).toMatchObject({
      code: 'P0C10',
      message: expect.stringMatching(
        /^"forward.email_lower" \(.*\) reads public.owner_only, which ops_\w+ may not read/,
      ),
    })
    expect(await db.query('SELECT definition FROM cutover.migrations WHERE name = $1', ['people_v2'])).toEqual(before)
  })

  it('cannot register a volatile mapping such as pg_sleep, even with force', async () => {
    const refused = await registerMigrations(
      db.pool,
      [parseMigration({ ...PEOPLE, forward: { email_lower: 'CASE WHEN pg_sleep(100) IS NULL THEN email END' } })],
      { schema: 'cutover', actor: 'ops', force: true },
    ).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ConfigInvalid)
    expect((refused as Error).message).toContain('pg_sleep(double precision), which is VOLATILE')
  })
})

describe('the application role', () => {
  it('cannot move a phase, forge an event, mark a divergence repaired or register', async () => {
    await setPhase(db.pool, 'ramp', 10)
    await expect(
      appClient.query(`UPDATE cutover.state SET phase = 'shadow_primary', authority = 'shadow', read_percent = 100`),
    ).rejects.toMatchObject({ code: '42501' })
    await expect(
      appClient.query(
        `INSERT INTO cutover.events (migration, actor, kind, reason) VALUES ('orders_v2', 'alice', 'advance', 'forged')`,
      ),
    ).rejects.toMatchObject({ code: '42501' })
    await db.query(
      `INSERT INTO cutover.divergences (migration, key, source) VALUES ('orders_v2', '{"id": "1"}', 'read')`,
    )
    await expect(
      appClient.query(`UPDATE cutover.divergences SET repaired_at = now(), repaired_by = 'alice'`),
    ).rejects.toMatchObject({ code: '42501' })
    await expect(
      appClient.query(
        `SELECT * FROM cutover.register_definition('orders_v2', '{}', 'orders', 'orders_v2', 'alice', NULL, false, '{}')`,
      ),
    ).rejects.toMatchObject({ code: '42501' })
    expect(await db.query(`SELECT phase, read_percent FROM cutover.state WHERE migration = 'orders_v2'`)).toEqual([
      { phase: 'ramp', read_percent: 10 },
    ])
  })

  it('rolls back only: guardrail_rollback goes to dual_write whatever it is asked, and its event names the login role', async () => {
    await setPhase(db.pool, 'shadow_primary')
    const moved = await appClient.query(
      `SELECT * FROM cutover.guardrail_rollback('orders_v2', 'alice', 'claimed', '{}')`,
    )
    expect(moved.rows).toMatchObject([{ migration: 'orders_v2', from_phase: 'shadow_primary' }])
    expect(
      await db.query(`SELECT phase, read_percent, authority FROM cutover.state WHERE migration = 'orders_v2'`),
    ).toEqual([{ phase: 'dual_write', read_percent: 0, authority: 'legacy' }])
    const [event] = await db.query(
      `SELECT actor, db_user, kind FROM cutover.events WHERE migration = 'orders_v2' ORDER BY id DESC LIMIT 1`,
    )
    expect(event).toEqual({ actor: 'alice', db_user: app, kind: 'guardrail_rollback' })
    await setPhase(db.pool, 'complete')
    await expect(
      appClient.query(`SELECT * FROM cutover.guardrail_rollback('orders_v2', 'alice', 'x', '{}')`),
    ).rejects.toMatchObject({ code: 'P0C11' })
    expect(await db.query(`SELECT phase FROM cutover.state WHERE migration = 'orders_v2'`)).toEqual([
      { phase: 'complete' },
    ])
  })

  it("cannot remove or rewrite another login role's instances rows, which rollback counts", async () => {
    await db.query(
      `INSERT INTO cutover.instances (id, host, pid, db_user) VALUES ('other-process', 'h', 1, 'someone_else')`,
    )
    expect((await appClient.query(`DELETE FROM cutover.instances WHERE id = 'other-process'`)).rowCount).toBe(0)
    expect(
      (await appClient.query(`UPDATE cutover.instances SET heartbeat_at = now() WHERE id = 'other-process'`)).rowCount,
    ).toBe(0)
    await expect(
      appClient.query(
        `INSERT INTO cutover.instances (id, host, pid, db_user) VALUES ('forged', 'h', 1, 'someone_else')`,
      ),
    ).rejects.toMatchObject({ code: '42501' })
    expect(await db.query(`SELECT id FROM cutover.instances WHERE id = 'other-process'`)).toEqual([
      { id: 'other-process' },
    ])
  })
})
