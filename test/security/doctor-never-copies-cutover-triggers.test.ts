/**
 * Issue 23, finding 7: `cutover doctor --apply` copied the bypass net's own triggers from the legacy table onto
 * the shadow, and the next backfill failed (`function cutover.bypass_apply_accounts_v2(text, accounts_v2,
 * accounts_v2) does not exist`). Schema parity must recognise cutover's own triggers by their function living
 * in a control schema (not by name), on either table, and neither report nor copy them; the application's own
 * triggers are still reported and copied.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { advance } from '../../src/actions/advance.js'
import { ramp } from '../../src/actions/ramp.js'
import { registerMigrations } from '../../src/actions/register.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { runPrecheck } from '../../src/jobs/entry/precheck.js'
import { runCli } from '../support/cli.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'

const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'])

interface DoctorDoc {
  findings: { code: string; message: string; applySql?: string[] }[]
  applied?: string[]
}

/** The parity findings of `cutover doctor <migration> [--apply] --json` in control schema `schema`, and what it applied. */
async function doctor(
  migration: string,
  schema: string,
  ...args: string[]
): Promise<{ parity: DoctorDoc['findings']; applied: string[] }> {
  const result = await cli('doctor', migration, '--schema', schema, ...args, '--json')
  expect(result.stderr).not.toMatch(/\n\s+at /)
  const doc = result.json<DoctorDoc>()
  return { parity: doc.findings.filter((f) => f.code.startsWith('parity_')), applied: doc.applied ?? [] }
}

/** The triggers of `table` whose function lives in a schema other than public (cutover's own, here), by name. */
async function cutoverTriggersOn(table: string): Promise<string[]> {
  const rows = await db.query<{ tgname: string }>(
    `SELECT t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE t.tgrelid = $1::regclass AND p.pronamespace <> 'public'::regnamespace ORDER BY t.tgname`,
    [table],
  )
  return rows.map((r) => r.tgname)
}

async function register(
  schema: string,
  name: string,
  legacy: string,
  shadow: string,
  forward: Record<string, string>,
  backward: Record<string, string>,
): Promise<void> {
  await initControl(db.pool, schema)
  await registerMigrations(
    db.pool,
    [
      parseMigration({
        name,
        legacy: { table: `public.${legacy}`, key: ['id'] },
        shadow: { table: `public.${shadow}`, key: ['id'] },
        forward,
        backward,
        soakSeconds: 0,
      }),
    ],
    { schema, actor: 'test' },
  )
  const op = { schema, migration: name, actor: 'test', reason: 'test' }
  await runPrecheck(db.pool, op)
  await advance(db.pool, { ...op, to: 'dual_write' })
}

beforeAll(async () => {
  await db.query(`
    CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz);
    CREATE TABLE accounts_v2 (id bigint PRIMARY KEY, full_name text NOT NULL, updated_at timestamptz);
    CREATE TABLE accounts_v3 (id bigint PRIMARY KEY, display_name text NOT NULL, updated_at timestamptz);
    INSERT INTO accounts SELECT g, 'name ' || g FROM generate_series(1, 50) g;
    -- The application's own trigger, named like cutover's: parity must still copy it.
    CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
    CREATE TRIGGER "cutover_bypass_stamp" BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION public.stamp();`)
  // accounts → accounts_v2 in control schema "cutover"; then accounts_v2 → accounts_v3 in another control schema.
  await register('cutover', 'accounts_v2', 'accounts', 'accounts_v2', { full_name: 'name' }, { name: 'full_name' })
  await register(
    'cutover_next',
    'accounts_v3',
    'accounts_v2',
    'accounts_v3',
    { display_name: 'full_name' },
    { full_name: 'display_name' },
  )
  for (const [migration, schema] of [
    ['accounts_v2', 'cutover'],
    ['accounts_v3', 'cutover_next'],
  ]) {
    const installed = await cli('net', 'install', migration as string, '--schema', schema as string, '--mode', 'copy')
    expect({ code: installed.code, stderr: installed.stderr }).toEqual({ code: 0, stderr: '' })
  }
  // Renamed, a net trigger is still cutover's: recognised by its function's schema, not by its name.
  await db.query('ALTER TRIGGER cutover_bypass_accounts_v2 ON accounts RENAME TO renamed_net')
  expect(await cutoverTriggersOn('accounts')).toEqual(['cutover_bypass_truncate', 'renamed_net'])
  expect(await cutoverTriggersOn('accounts_v2')).toEqual(['cutover_bypass_accounts_v3', 'cutover_bypass_truncate'])
})

describe("doctor never reports nor copies cutover's own triggers", { timeout: 120_000 }, () => {
  it("reports only the application's trigger as a gap, with the net on the legacy table and another migration's net on the shadow", async () => {
    const { parity } = await doctor('accounts_v2', 'cutover')
    expect(parity.map((f) => f.code)).toEqual(['parity_trigger'])
    expect(parity[0]?.message).toMatch(
      /^the shadow lacks cutover_bypass_stamp: trigger "cutover_bypass_stamp" \(BEFORE UPDATE → public\.stamp\)/,
    )
    expect((await doctor('accounts_v3', 'cutover_next')).parity).toEqual([])
  })

  it("--apply copies the application's trigger and no trigger of cutover's; the backfills afterwards succeed and the nets still copy", async () => {
    const { applied, parity } = await doctor('accounts_v2', 'cutover', '--apply')
    expect(applied).toEqual([
      'CREATE TRIGGER "cutover_bypass_stamp" BEFORE UPDATE ON "public"."accounts_v2" FOR EACH ROW EXECUTE FUNCTION public.stamp()',
    ])
    expect(parity).toEqual([])
    // accounts_v2 now has the application's trigger too: the next migration copies that one, and again none of cutover's.
    expect((await doctor('accounts_v3', 'cutover_next', '--apply')).applied).toEqual([
      'CREATE TRIGGER "cutover_bypass_stamp" BEFORE UPDATE ON "public"."accounts_v3" FOR EACH ROW EXECUTE FUNCTION public.stamp()',
    ])
    expect(await cutoverTriggersOn('accounts_v2')).toEqual(['cutover_bypass_accounts_v3', 'cutover_bypass_truncate'])
    expect(await cutoverTriggersOn('accounts_v3')).toEqual([])

    for (const [migration, schema] of [
      ['accounts_v2', 'cutover'],
      ['accounts_v3', 'cutover_next'],
    ] as const) {
      const backfill = await cli('backfill', migration, '--schema', schema, '--json')
      expect({ code: backfill.code, stderr: backfill.stderr }).toEqual({ code: 0, stderr: '' })
    }
    expect(await db.query('SELECT count(*)::int AS n FROM accounts_v3')).toEqual([{ n: 50 }])

    // A writer outside the DAL: both nets still copy, through the chain.
    const writer = new pg.Client({ connectionString: db.url, application_name: 'nightly_import' })
    await writer.connect()
    try {
      await writer.query("UPDATE accounts SET name = 'Grace Hopper' WHERE id = 1")
    } finally {
      await writer.end()
    }
    expect(await db.query('SELECT full_name FROM accounts_v2 WHERE id = 1')).toEqual([{ full_name: 'Grace Hopper' }])
    expect(await db.query('SELECT display_name FROM accounts_v3 WHERE id = 1')).toEqual([
      { display_name: 'Grace Hopper' },
    ])
    for (const [migration, schema] of [
      ['accounts_v2', 'cutover'],
      ['accounts_v3', 'cutover_next'],
    ] as const) {
      const verify = await cli('verify', migration, '--schema', schema, '--json')
      expect({ code: verify.code, stderr: verify.stderr }).toEqual({ code: 0, stderr: '' })
    }
  })

  it('the complete gate does not take the net on the legacy table for a gap either', async () => {
    const op = { schema: 'cutover', migration: 'accounts_v2', actor: 'test', reason: 'test', ackTimeoutMs: 0 }
    await advance(db.pool, { ...op, to: 'shadow_read' })
    await ramp(db.pool, { ...op, percent: 100 })
    await advance(db.pool, { ...op, to: 'shadow_primary' })
    expect((await cli('verify', 'accounts_v2', '--json')).code).toBe(0)
    const complete = await cli('advance', 'accounts_v2', '--to', 'complete', '--confirm', '--json')
    expect({ code: complete.code, stderr: complete.stderr }).toEqual({ code: 0, stderr: '' })
    expect(await cutoverTriggersOn('accounts_v2')).toEqual(['cutover_bypass_accounts_v3', 'cutover_bypass_truncate'])
  })
})
