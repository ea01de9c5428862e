/**
 * Issue 23 (found in review): the bypass net cast a shadow key to its type as format_type printed it in the
 * installer's session, unqualified for a visible type outside pg_catalog; inside the pinned function that name was
 * looked up in pg_temp, where a legacy-only writer could put a domain whose CHECK then ran as the installer.
 */
import { randomBytes } from 'node:crypto'
import { expect, it } from 'vitest'
import { installBypassNet } from '../../src/actions/bypass-net.js'
import { advance } from '../../src/actions/advance.js'
import { registerMigrations } from '../../src/actions/register.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { runPrecheck } from '../../src/jobs/entry/precheck.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { loginRole } from '../support/roles.js'

const db = await freshDatabase()
const suffix = randomBytes(4).toString('hex')
it("a shadow key of a user-defined type is cast by its qualified name, so a writer's temporary domain of that name never runs as the installer", async () => {
  await initControl(db.pool)
  await db.query(`CREATE DOMAIN public.acct_id AS bigint;
    CREATE TABLE accts (id bigint PRIMARY KEY, name text); CREATE TABLE accts_v2 (id public.acct_id PRIMARY KEY, name text);
    INSERT INTO accts SELECT g, 'n' FROM generate_series(1, 5) g; INSERT INTO accts_v2 SELECT g, 'n' FROM generate_series(1, 5) g;
    CREATE TABLE public.canary (who text NOT NULL); GRANT INSERT, SELECT ON public.canary TO PUBLIC`)
  await registerMigrations(
    db.pool,
    [
      parseMigration({
        name: 'accts_v2',
        legacy: { table: 'public.accts', key: ['id'] },
        shadow: { table: 'public.accts_v2', key: ['id'] },
        forward: { id: 'id::public.acct_id' },
      }),
    ],
    { schema: 'cutover', actor: 't' },
  )
  const op = { schema: 'cutover', migration: 'accts_v2', actor: 't', reason: 't' }
  await runPrecheck(db.pool, op)
  await advance(db.pool, { ...op, to: 'dual_write' })
  await installBypassNet(db.pool, { ...op, mode: 'copy' })
  const cron = await loginRole(db, `cron_${suffix}`)
  await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON accts TO "cron_${suffix}"`)
  await cron.query(
    `CREATE FUNCTION pg_temp.f(pg_catalog.int8) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO public.canary SELECT current_user; SELECT true $$`,
  )
  await cron.query(`CREATE DOMAIN pg_temp.acct_id AS pg_catalog.int8 CHECK (pg_temp.f(VALUE))`)
  await cron.query('DELETE FROM accts WHERE id = 4')
  // Before the catalog read types qualified: [{ who: 'postgres' }], the installer.
  expect(await db.query('SELECT DISTINCT who FROM public.canary')).toEqual([])
})
