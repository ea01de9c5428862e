/**
 * Issue 23, finding 1: the bypass net's functions run as the installer (the legacy table's owner). A role that may
 * only write the legacy table must not be able to make them run its SQL: not through a temporary type or function
 * that shadows a catalog one, not through an overload planted in a writable public schema, not by calling them.
 */
import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { installBypassNet } from '../../src/actions/bypass-net.js'
import { freshDatabase } from '../support/database.js'
import { setPhase, setupOrders } from '../support/orders-fixture.js'
import { loginRole } from '../support/roles.js'

const db = await freshDatabase()
const suffix = randomBytes(4).toString('hex')
let cron: pg.Client
let planter: pg.Client

/** Who ran the planted code, other than the role that planted it: empty when no right was gained. */
async function escalations(attacker: string): Promise<string[]> {
  const rows = await db.query<{ who: string }>('SELECT DISTINCT who FROM public.canary WHERE who <> $1 ORDER BY 1', [
    attacker,
  ])
  return rows.map((r) => r.who)
}

beforeAll(async () => {
  await setupOrders(db)
  await setPhase(db.pool, 'dual_write')
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents) SELECT g, gen_random_uuid()::text, g FROM generate_series(1, 20) g`,
  )
  // What the planted code leaves behind: the role it ran as. Anyone may append.
  await db.query('CREATE TABLE public.canary (who text NOT NULL); GRANT INSERT, SELECT ON public.canary TO PUBLIC')
  cron = await loginRole(db, `cron_${suffix}`)
  await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO "cron_${suffix}"`)
  // A cluster upgraded from PostgreSQL 14 or earlier: anyone may create objects in public.
  planter = await loginRole(db, `planter_${suffix}`)
  await db.query(`GRANT CREATE ON SCHEMA public TO PUBLIC; GRANT SELECT ON orders TO "planter_${suffix}"`)
})

beforeEach(async () => {
  await db.query('TRUNCATE public.canary')
})

describe('the bypass net runs nothing a writer planted', () => {
  for (const mode of ['record', 'copy'] as const) {
    it(`in ${mode} mode, a temporary domain named text does not run as the installer`, async () => {
      await installBypassNet(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'owner', mode })
      await cron.query(`CREATE FUNCTION pg_temp.f(pg_catalog.text) RETURNS boolean LANGUAGE sql AS
                          $$ INSERT INTO public.canary SELECT current_user; SELECT true $$`)
      for (const type of ['text', 'int8', 'bigint', 'jsonb', 'int4']) {
        await cron.query(
          `CREATE DOMAIN pg_temp.${type} AS pg_catalog.${type === 'bigint' ? 'int8' : type} CHECK (pg_temp.f(VALUE::pg_catalog.text))`,
        )
      }
      await cron.query(
        `INSERT INTO orders (id, customer_id, amount_cents) VALUES (${mode === 'record' ? 101 : 102}, gen_random_uuid()::text, 1)`,
      )
      await cron.query('UPDATE orders SET amount_cents = amount_cents + 1 WHERE id = 3')
      await cron.query('DELETE FROM orders WHERE id = 4')
      expect(await escalations(`cron_${suffix}`)).toEqual([])
      await cron.query('DISCARD TEMP')
    })
  }

  it("an operator overload planted in public is not taken by the net's mapping", async () => {
    await installBypassNet(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'owner', mode: 'copy' })
    // amount_cents / 100.0 is integer / numeric: an exact-match operator in public beats the catalog's numeric / numeric.
    await planter.query(`CREATE FUNCTION public.div_spy(integer, numeric) RETURNS numeric LANGUAGE sql AS
                           $$ INSERT INTO public.canary SELECT current_user; SELECT $1::numeric / $2 $$;
                         CREATE OPERATOR public./ (LEFTARG = integer, RIGHTARG = numeric, FUNCTION = public.div_spy)`)
    await cron.query(`INSERT INTO orders (id, customer_id, amount_cents) VALUES (103, gen_random_uuid()::text, 1)`)
    expect(await escalations(`planter_${suffix}`)).toEqual([])
    await db.query('DROP OPERATOR public./ (integer, numeric); DROP FUNCTION public.div_spy(integer, numeric)')
  })

  it("no writer may call the net's functions directly", async () => {
    await installBypassNet(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'owner', mode: 'copy' })
    await db.query(`GRANT USAGE ON SCHEMA cutover TO "cron_${suffix}"`)
    await expect(
      cron.query(`SELECT cutover.bypass_apply_orders_v2('DELETE', NULL, (SELECT o FROM orders o WHERE id = 5))`),
    ).rejects.toMatchObject({ code: '42501' })
    expect(await db.query('SELECT count(*)::int AS n FROM orders_v2 WHERE id = 5')).toEqual([{ n: 0 }])
  })

  it("a forged writer marker does not hide a legacy-only writer's row from the net", async () => {
    await installBypassNet(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'owner', mode: 'record' })
    await cron.query('BEGIN')
    await cron.query(`SELECT set_config('cutover.dal_statement', statement_timestamp()::text, true)`)
    await cron.query(`WITH m AS (SELECT set_config('cutover.dal_statement', statement_timestamp()::text, true))
                      INSERT INTO orders (id, customer_id, amount_cents) SELECT 104, gen_random_uuid()::text, 1 FROM m`)
    await cron.query('COMMIT')
    const rows = await db.query<{ kind: string }>(
      `SELECT kind FROM cutover.divergences WHERE migration = 'orders_v2' AND key = '{"id": "104"}'`,
    )
    expect(rows).toEqual([{ kind: 'missing_in_shadow' }])
  })
})
