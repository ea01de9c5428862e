/**
 * Issue 23, build item 1, for every SECURITY DEFINER function cutover creates, listed from pg_proc (so one added
 * later is covered without editing this file): it pins search_path to pg_catalog, pg_temp; PUBLIC may not execute
 * it; and a role that planted look-alikes in pg_temp and in a writable public, then called every definer function
 * it may call, ran nothing as anyone else.
 */
import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import { beforeAll, describe, expect, it } from 'vitest'
import { installBypassNet } from '../../src/actions/bypass-net.js'
import { freshDatabase } from '../support/database.js'
import { setPhase, setupOrders } from '../support/orders-fixture.js'
import { loginRole } from '../support/roles.js'

const db = await freshDatabase()
const suffix = randomBytes(4).toString('hex')
const roles = { application: `app_${suffix}`, operator: `ops_${suffix}`, reader: `reader_${suffix}` }
const clients: Record<string, pg.Client> = {}

interface Definer {
  signature: string
  config: string[] | null
  publicMayExecute: boolean
  argTypes: string[]
}

async function definers(): Promise<Definer[]> {
  return db.query<Definer>(`
    SELECT p.oid::regprocedure::text AS signature, p.proconfig AS config,
           EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS "publicMayExecute",
           ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t) AS "argTypes"
      FROM pg_proc p WHERE p.pronamespace = 'cutover'::regnamespace AND p.prosecdef ORDER BY 1`)
}

/** Look-alikes of what a definer body might name unqualified: temporary domains of common types, public overloads. */
async function plant(client: pg.Client, role: string): Promise<void> {
  await client.query(
    `CREATE FUNCTION pg_temp.spy(pg_catalog.text) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO public.canary SELECT current_user; SELECT true $$`,
  )
  for (const [name, base] of [
    ['text', 'text'],
    ['int8', 'int8'],
    ['bigint', 'int8'],
    ['jsonb', 'jsonb'],
    ['int4', 'int4'],
    ['regclass', 'regclass'],
    ['timestamptz', 'timestamptz'],
    ['bool', 'bool'],
  ]) {
    await client.query(
      `CREATE DOMAIN pg_temp.${name} AS pg_catalog.${base} CHECK (pg_temp.spy(VALUE::pg_catalog.text))`,
    )
  }
  const fn = `${role}_spy`
  await client.query(
    `CREATE FUNCTION public.${fn}(anyelement) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO public.canary SELECT current_user; SELECT true $$`,
  )
  for (const [name, args, returns] of [
    ['format', 'text, VARIADIC text[]', 'text'],
    ['lower', 'varchar', 'text'],
    ['jsonb_build_object', 'VARIADIC text[]', 'jsonb'],
    ['cardinality', 'text[]', 'int'],
    ['left', 'varchar, int', 'text'],
    ['current_setting', 'varchar, boolean', 'text'],
    ['unnest', 'text[]', 'SETOF text'],
  ]) {
    await client
      .query(
        `CREATE FUNCTION public.${name}(${args}) RETURNS ${returns} LANGUAGE plpgsql AS $$ BEGIN PERFORM public.${fn}(1); RETURN NULL; END $$`,
      )
      .catch(() => undefined)
  }
}

beforeAll(async () => {
  await setupOrders(db)
  await setPhase(db.pool, 'dual_write')
  await installBypassNet(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'owner', mode: 'copy' })
  await db.query(
    `CREATE TABLE public.canary (who text NOT NULL); GRANT INSERT, SELECT ON public.canary TO PUBLIC; GRANT CREATE ON SCHEMA public TO PUBLIC`,
  )
  clients.application = await loginRole(db, roles.application, 'application')
  clients.operator = await loginRole(db, roles.operator, 'operator')
  clients.reader = await loginRole(db, roles.reader)
  await db.query(`GRANT SELECT ON orders TO "${roles.reader}"; GRANT USAGE ON SCHEMA cutover TO "${roles.reader}"`)
})

describe('every SECURITY DEFINER function in the control schema', () => {
  it("pins search_path to pg_catalog, pg_temp and is not PUBLIC's to execute", async () => {
    const found = await definers()
    // The net's two, the control schema's own: a list that is not empty is what makes the checks below mean something.
    expect(found.map((f) => f.signature)).toEqual(
      expect.arrayContaining([
        'cutover.bypass_net_orders_v2()',
        'cutover.register_definition(text,jsonb,regclass,regclass,text,text,boolean,jsonb)',
      ]),
    )
    for (const f of found) {
      // The net's function also carries the migration's session settings (issue 24); search_path is pinned once, first.
      const paths = (f.config ?? []).filter((c) => c.startsWith('search_path='))
      expect({ signature: f.signature, paths, publicMayExecute: f.publicMayExecute }).toEqual({
        signature: f.signature,
        paths: ['search_path=pg_catalog, pg_temp'],
        publicMayExecute: false,
      })
    }
  })

  for (const role of ['application', 'operator', 'reader'] as const) {
    it(`called by the ${role} role after it planted look-alikes, runs none of them as anyone else, and refuses what it may not call`, async () => {
      const client = clients[role] as pg.Client
      await db.query('TRUNCATE public.canary')
      await plant(client, roles[role])
      for (const f of await definers()) {
        const [allowed] = await db.query<{ may: boolean }>("SELECT has_function_privilege($1, $2, 'EXECUTE') AS may", [
          roles[role],
          f.signature,
        ])
        if (f.argTypes.length === 0 && f.signature.includes('bypass_net_')) continue // a trigger function: fired below
        const call = `SELECT ${f.signature.replace(/\(.*$/, '')}(${f.argTypes.map((t) => `NULL::${t}`).join(', ')})`
        const outcome = await client.query(call).then(
          () => 'ran',
          (e: { code?: string }) => e.code,
        )
        if (!allowed?.may) expect({ call, outcome }).toEqual({ call, outcome: '42501' })
      }
      // The net's trigger function, fired by a write: the reader may not write; the application and the operator may.
      if (role !== 'reader')
        await client.query(
          `INSERT INTO orders (id, customer_id, amount_cents) VALUES (${role === 'application' ? 9001 : 9002}, gen_random_uuid()::text, 7)`,
        )
      expect(await db.query('SELECT DISTINCT who FROM public.canary WHERE who <> $1', [roles[role]])).toEqual([])
    })
  }
})
