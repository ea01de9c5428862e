import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { expectRefusedUnchanged, runCli } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { ORDERS_CONFIG, ORDERS_DDL, order, silentLogger } from '../support/orders-fixture.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'])
const reader = `legacy_reader_${randomBytes(4).toString('hex')}`
let configPath: string
/** Each CLI call starts a process (seconds on a loaded machine); some tests make a dozen. */
const SLOW_MS = 300_000

const config = {
  migrations: [
    {
      ...ORDERS_CONFIG,
      soakSeconds: 0,
    },
    {
      name: 'accounts_v2',
      legacy: { table: 'public.accounts', key: ['id'] },
      shadow: { table: 'public.accounts_v2', key: ['id'] },
      forward: { mail: 'email' },
      backward: { email: 'lower(mail)' },
      soakSeconds: 0,
      retireSoakSeconds: 0,
    },
  ],
}

/** DAL pools fail a statement that waits over 5 s for a lock, instead of hanging: how the test sees the DAL touch a locked table. */
function dalPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: db.url, max: 5, options: '-c lock_timeout=5000' })
  pool.on('error', () => undefined)
  return pool
}

async function connect(pool: pg.Pool): Promise<Cutover> {
  return Cutover.connect({
    pool,
    registry: new Registry(),
    logger: silentLogger,
    random: () => 0,
    fallbackPollMs: 100,
    comparisons: { maxInFlight: 100 },
  })
}

/** Every row of a relation, every column, in key order. */
async function contents(relation: string): Promise<Record<string, unknown>[]> {
  return db.query(`SELECT * FROM ${relation} ORDER BY 1`)
}

/** The control schema, every public relation and constraint, and every public table's rows: equal means nothing changed. */
async function world(): Promise<string> {
  const relations = await db.query<{ name: string; kind: string }>(
    "SELECT relname AS name, relkind::text AS kind FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v') ORDER BY 1",
  )
  const constraints = await db.query(
    "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
  )
  const rows: Record<string, unknown> = {}
  for (const r of relations)
    rows[r.name] = await db.query(
      `SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text AS j FROM public."${r.name}" t`,
    )
  return JSON.stringify({ control: await controlSnapshot(db.pool), relations, constraints, rows })
}

async function expectRefused(args: string[], code: number, message: RegExp): Promise<void> {
  await expectRefusedUnchanged(() => cli(...args), world, code, message)
}

async function foreignKeyTarget(name: string): Promise<{ target: string; def: string } | undefined> {
  const [row] = await db.query<{ target: string; def: string }>(
    'SELECT confrelid::regclass::text AS target, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = $1',
    [name],
  )
  return row
}

beforeAll(async () => {
  await db.query(ORDERS_DDL)
  await db.query(`
    CREATE TABLE order_lines (id int PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE, qty int NOT NULL);
    CREATE TABLE accounts (id int PRIMARY KEY, code text NOT NULL UNIQUE, email text NOT NULL UNIQUE);
    CREATE TABLE accounts_v2 (id int PRIMARY KEY, code text NOT NULL, mail text NOT NULL UNIQUE);
    CREATE TABLE account_orders (id int PRIMARY KEY, account_id int REFERENCES accounts (id));
    CREATE TABLE account_codes (id int PRIMARY KEY, code text REFERENCES accounts (code));
    CREATE TABLE account_mail (id int PRIMARY KEY, email text REFERENCES accounts (email));
    INSERT INTO orders (id, customer_id, amount_cents, status, meta)
      SELECT g, gen_random_uuid()::text, g * 100, 'old', jsonb_build_object('g', g) FROM generate_series(101, 110) g;
    CREATE ROLE ${reader};
    GRANT SELECT ON orders TO ${reader};`)
  const dir = await tempDir('cutover-retire-')
  configPath = join(dir, 'cutover.json')
  await writeFile(configPath, JSON.stringify(config))
  expect((await cli('init')).code).toBe(0)
  expect((await cli('register', '--config', configPath)).code).toBe(0)
})

afterAll(async () => {
  await db.query(`DROP OWNED BY ${reader}; DROP ROLE ${reader}`).catch(() => undefined)
})

describe('retire and unretire a migration whose legacy table a child table references', { timeout: SLOW_MS }, () => {
  const pool = dalPool()
  let cutover: Cutover
  let dal: MigrationDal
  let before: { orders: unknown[]; shadow: unknown[]; lines: unknown[] }

  afterAll(async () => {
    await cutover?.close()
    await pool.end()
  })

  it('reaches complete with rows written through the DAL; retire is refused before complete and during the soak', async () => {
    expect((await cli('precheck', 'orders_v2')).code).toBe(0)
    expect((await cli('advance', 'orders_v2', '--to', 'dual_write')).code).toBe(0)
    cutover = await connect(pool)
    dal = await cutover.migration('orders_v2')
    for (let id = 1; id <= 20; id++) await dal.insert(order(id, { amount_cents: id * 7 }))
    await dal.update(3, { status: 'paid' })
    await dal.delete(20)
    await db.query(
      'INSERT INTO order_lines (id, order_id, qty) SELECT g, g, g FROM generate_series(1, 19) g UNION ALL SELECT 100 + g, 100 + g, 1 FROM generate_series(1, 10) g',
    )
    expect((await cli('backfill', 'orders_v2')).code).toBe(0)
    expect((await cli('verify', 'orders_v2')).code).toBe(0)
    expect((await cli('advance', 'orders_v2')).code).toBe(0)
    expect((await cli('ramp', 'orders_v2', '100')).code).toBe(0)
    expect((await cli('advance', 'orders_v2')).code).toBe(0)
    // Entering shadow_primary moved order_lines' foreign key to the shadow (NOT VALID, validated, the old one dropped), under its own name.
    expect(await foreignKeyTarget('order_lines_order_id_fkey')).toEqual({
      target: 'orders_v2',
      def: 'FOREIGN KEY (order_id) REFERENCES orders_v2(id) ON DELETE CASCADE',
    })
    await expectRefused(
      ['retire', 'orders_v2', '--alias'],
      2,
      /^cutover: orders_v2: retire needs phase complete and the migration is in shadow_primary; finish the cutover first/,
    )
    expect((await cli('verify', 'orders_v2')).code).toBe(0)
    // The complete gate's schema parity refuses: the reader's grant is missing. Normally `cutover doctor orders_v2 --apply`
    // adds it first; forced here (the path a forced cutover reaches retire by).
    const refused = await cli('advance', 'orders_v2', '--to', 'complete', '--confirm')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/gate "complete" not met: the shadow lacks \d+ thing\(s\) the legacy table has/)
    expect((await cli('advance', 'orders_v2', '--to', 'complete', '--confirm', '--force')).code).toBe(0)
    await vi.waitFor(() => expect(cutover.state('orders_v2')?.phase).toBe('complete'))
    await expectRefused(
      ['retire', 'orders_v2', '--alias'],
      1,
      /^cutover: orders_v2: gate "retire" not met: complete for \d+ s of the 86400 s retire soak \(retireSoakSeconds\); wait \d+ s more, or override with: cutover retire orders_v2 --force$/,
    )
  })

  it('retire --alias --force renames the legacy table, finds no foreign key left on it, and the view reads the same rows', async () => {
    before = {
      orders: await contents('orders'),
      shadow: await contents('orders_v2'),
      lines: await contents('order_lines'),
    }
    expect(before.orders).toHaveLength(29)
    const result = await cli('retire', 'orders_v2', '--alias', '--force', '--json')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.json()).toMatchObject({
      migration: 'orders_v2',
      changed: true,
      legacyTable: 'public.orders',
      retiredTable: 'public.orders_retired',
      forced: true,
      foreignKeys: [],
      alias: {
        view: 'public.orders',
        isUpdatable: true,
        updatableColumns: ['id', 'status', 'placed_at'],
        readOnlyColumns: ['customer_id', 'amount_cents', 'meta'],
        grants: [`SELECT to ${reader}`],
      },
      dropSql: 'DROP TABLE "public"."orders_retired";',
    })
    expect(await foreignKeyTarget('order_lines_order_id_fkey')).toEqual({
      target: 'orders_v2',
      def: 'FOREIGN KEY (order_id) REFERENCES orders_v2(id) ON DELETE CASCADE',
    })
    expect(await db.query("SELECT relkind::text AS kind FROM pg_class WHERE oid = 'public.orders'::regclass")).toEqual([
      { kind: 'v' },
    ])
    expect(await contents('orders_retired')).toEqual(before.orders)
    expect(await contents('orders_v2')).toEqual(before.shadow)
    expect(await contents('order_lines')).toEqual(before.lines)
    // Code not yet moved reads the legacy name, as the role it always used, and gets the same rows.
    expect(await contents('orders')).toEqual(before.orders)
    const client = await db.pool.connect()
    try {
      await client.query(`BEGIN; SET LOCAL ROLE ${reader}`)
      expect((await client.query('SELECT * FROM orders ORDER BY id')).rows).toEqual(before.orders)
    } finally {
      await client.query('ROLLBACK')
      client.release()
    }
    await expect(db.query('INSERT INTO order_lines (id, order_id, qty) VALUES (999, 424242, 1)')).rejects.toThrow(
      /violates foreign key constraint "order_lines_order_id_fkey"/,
    )
    const [event] = await db.query<{ forced: boolean; details: Record<string, unknown> }>(
      "SELECT forced, details FROM cutover.events WHERE kind = 'retire'",
    )
    expect(event).toMatchObject({
      forced: true,
      details: {
        overriddenGate: 'retire',
        retiredTable: { schema: 'public', name: 'orders_retired' },
        alias: { schema: 'public', name: 'orders' },
      },
    })
    const status = await cli('status', 'orders_v2', '--json')
    expect(status.json<{ migrations: Record<string, unknown>[] }>().migrations[0]).toMatchObject({
      phase: 'complete',
      legacyTable: 'orders_retired',
      retired: {
        retiredTable: 'public.orders_retired',
        alias: 'public.orders',
        foreignKeysMoved: 0,
        dropSql: 'DROP TABLE "public"."orders_retired";',
      },
    })
    expect((await cli('status', 'orders_v2')).stdout).toContain('retired:')
    expect((await cli('retire', 'orders_v2', '--json')).json()).toMatchObject({
      changed: false,
      retiredTable: 'public.orders_retired',
    })
  })

  it('then backfill, verify, repair, advance, rollback and register refuse in one line, and change nothing', async () => {
    const line =
      /^cutover: orders_v2: retired; run cutover unretire orders_v2 first \(the legacy table is public\.orders_retired now\)$/
    for (const command of ['backfill', 'verify', 'repair', 'advance', 'rollback'])
      await expectRefused([command, 'orders_v2'], 2, line)
    await expectRefused(['register', '--config', configPath], 2, line)
  })

  it('the DAL in complete keeps working while the retired table and the alias view are held: it touches the shadow alone', async () => {
    const locker = await db.pool.connect()
    const fresh = await connect(pool)
    try {
      // LOCK on a view would lock the shadow too; an uncommitted rename holds the view alone.
      await locker.query(
        'BEGIN; LOCK TABLE orders_retired IN ACCESS EXCLUSIVE MODE; ALTER VIEW orders RENAME TO orders_held',
      )
      for (const each of [dal, await fresh.migration('orders_v2')]) {
        expect(each.state.phase).toBe('complete')
        await each.insert(order(500, { amount_cents: 4200 }))
        expect(await each.get(500)).toMatchObject({ id: '500', amount_cents: 4200 })
        await each.update(500, { status: 'paid' })
        expect(await each.select((from) => from.selectAll().where('id', '=', '500'))).toMatchObject([
          { status: 'paid' },
        ])
        // The moved foreign key enforces against the shadow, with its ON DELETE CASCADE.
        await db.query('INSERT INTO order_lines (id, order_id, qty) VALUES (500, 500, 1)')
        await each.delete(500)
        expect(await db.query('SELECT id FROM order_lines WHERE id = 500')).toEqual([])
      }
    } finally {
      await locker.query('ROLLBACK')
      locker.release()
      await fresh.close()
    }
    expect(await contents('orders_retired')).toEqual(before.orders)
    expect(await contents('orders_v2')).toEqual(before.shadow)
  })

  it('the alias view takes writes to plain columns and refuses mapped ones', async () => {
    await db.query("UPDATE orders SET status = 'via view' WHERE id = 1")
    expect(await db.query('SELECT status FROM orders_v2 WHERE id = 1')).toEqual([{ status: 'via view' }])
    await db.query("UPDATE orders SET status = 'new' WHERE id = 1")
    await expect(db.query("UPDATE orders SET customer_id = 'x' WHERE id = 1")).rejects.toThrow(
      /cannot update column "customer_id" of view "orders"/,
    )
    expect(await contents('orders_v2')).toEqual(before.shadow)
  })

  it('unretire drops the view and renames the table back; the child keeps its key on the shadow, so a line of an order created while retired stays valid', async () => {
    await dal.insert(order(600))
    await db.query('INSERT INTO order_lines (id, order_id, qty) VALUES (600, 600, 1)')
    const result = await cli('unretire', 'orders_v2', '--json')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.json()).toMatchObject({
      changed: true,
      legacyTable: 'public.orders',
      aliasDropped: true,
      foreignKeys: [],
    })
    expect(await foreignKeyTarget('order_lines_order_id_fkey')).toEqual({
      target: 'orders_v2',
      def: 'FOREIGN KEY (order_id) REFERENCES orders_v2(id) ON DELETE CASCADE',
    })
    expect(
      await db.query("SELECT relname FROM pg_class WHERE relname IN ('orders', 'orders_retired') AND relkind = 'r'"),
    ).toEqual([{ relname: 'orders' }])
    // In complete the DAL writes the shadow alone, and the child's key follows it.
    await db.query('DELETE FROM order_lines WHERE id = 600')
    await dal.delete(600)
    expect(await contents('orders')).toEqual(before.orders)
    expect(await contents('orders_v2')).toEqual(before.shadow)
    expect(await contents('order_lines')).toEqual(before.lines)
    await expect(db.query('INSERT INTO order_lines (id, order_id, qty) VALUES (999, 424242, 1)')).rejects.toThrow(
      /violates foreign key constraint "order_lines_order_id_fkey"/,
    )
    expect(
      (await cli('status', 'orders_v2', '--json')).json<{ migrations: Record<string, unknown>[] }>().migrations[0],
    ).toMatchObject({ legacyTable: 'orders', retired: null })
    expect((await cli('verify', 'orders_v2')).code).toBe(0)
    expect((await cli('unretire', 'orders_v2', '--json')).json()).toMatchObject({ changed: false })
  })
})

describe('entering complete refuses, changing nothing, when a foreign key cannot move', { timeout: SLOW_MS }, () => {
  it('names each one: no unique key on the shadow, no plain mapping, and orphans (with a query listing them)', async () => {
    await db.query(`
      INSERT INTO accounts VALUES (1, 'a', 'a@x'), (2, 'b', 'b@x'), (3, 'c', 'c@x');
      INSERT INTO accounts_v2 VALUES (1, 'a', 'a@x'), (2, 'b', 'b@x');
      INSERT INTO account_orders VALUES (1, 1), (2, 3);
      INSERT INTO account_codes VALUES (1, 'a');
      INSERT INTO account_mail VALUES (1, 'a@x');`)
    expect((await cli('precheck', 'accounts_v2')).code).toBe(0)
    expect((await cli('advance', 'accounts_v2', '--to', 'dual_write')).code).toBe(0)
    expect((await cli('advance', 'accounts_v2')).code).toBe(0)
    expect((await cli('ramp', 'accounts_v2', '100', '--force')).code).toBe(0)
    // Entering shadow_primary leaves on legacy a key that cannot move yet (the DAL still writes legacy); complete, even forced, refuses.
    expect((await cli('advance', 'accounts_v2')).code).toBe(0)
    await expectRefused(
      ['advance', 'accounts_v2', '--to', 'complete', '--confirm', '--force'],
      1,
      new RegExp(
        '^cutover: accounts_v2: advance refused, nothing changed: 3 foreign key\\(s\\) cannot move to public\\.accounts_v2: ' +
          [
            'public\\.account_codes\\.account_codes_code_fkey \\(code\\): no primary key or unique index on public\\.accounts_v2 \\(code\\) for it to reference; add one: CREATE UNIQUE INDEX ON "public"\\."accounts_v2" \\("code"\\)',
            'public\\.account_mail\\.account_mail_email_fkey \\(email\\): referenced legacy column "email" has no plain column on the shadow \\(backward maps it as lower\\(mail\\)\\); a foreign key can only reference plain columns',
            'public\\.account_orders\\.account_orders_account_id_fkey \\(account_id\\): 1 row\\(s\\) of public\\.account_orders reference keys that public\\.accounts_v2 lacks; run cutover verify accounts_v2 and cutover repair accounts_v2',
          ].join('; ') +
          '; fix each, then run cutover advance accounts_v2 --to complete --confirm again$',
      ),
    )
  })

  it('a lock not granted within --lock-timeout-ms fails the whole retire with exit 3 and changes nothing', async () => {
    const holder = await db.pool.connect()
    try {
      await holder.query('BEGIN; LOCK TABLE orders IN ACCESS SHARE MODE')
      await expectRefused(
        ['retire', 'orders_v2', '--force', '--lock-timeout-ms', '300'],
        3,
        /^cutover: retire of orders_v2 could not take its table locks within 300 ms \(canceling statement due to lock timeout\); nothing changed\./,
      )
    } finally {
      await holder.query('ROLLBACK')
      holder.release()
    }
  })
})
