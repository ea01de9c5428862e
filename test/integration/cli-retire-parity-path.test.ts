/**
 * The recommended path to retire a table that a child table references: `doctor` reports the child foreign key the
 * shadow lacks, `doctor --apply` adds an equivalent one referencing the shadow, entering shadow_primary finds it and
 * only drops the legacy one, `complete` then passes without --force, and retire and unretire leave the child's key
 * on the shadow (the table the DAL writes in complete). A key to the shadow on the same columns that acts differently
 * (no ON DELETE CASCADE) is not taken for an equivalent one. (cli-retire.test.ts covers the path where entering
 * shadow_primary moves the key itself.)
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cutover } from '../../src/cutover/cutover.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { ORDERS_CONFIG, ORDERS_DDL, order, silentLogger } from '../support/orders-fixture.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'])
const reader = `items_reader_${randomBytes(4).toString('hex')}`
/** Each CLI call starts a process (seconds on a loaded machine); some tests make a dozen. */
const SLOW_MS = 300_000
const LEGACY_FK = 'order_items_order_id_fkey'
const SHADOW_FK = 'order_items_order_id_fkey_shadow'
const SHADOW_FK_SQL =
  'ALTER TABLE "public"."order_items" ADD CONSTRAINT "order_items_order_id_fkey_shadow" FOREIGN KEY ("order_id") REFERENCES "public"."orders_v2" ("id") ' +
  'ON UPDATE NO ACTION ON DELETE CASCADE NOT VALID;\nALTER TABLE "public"."order_items" VALIDATE CONSTRAINT "order_items_order_id_fkey_shadow"'

const config = {
  migrations: [
    {
      ...ORDERS_CONFIG,
      soakSeconds: 0,
      retireSoakSeconds: 0,
    },
    {
      name: 'carts_v2',
      legacy: { table: 'public.carts', key: ['id'] },
      shadow: { table: 'public.carts_v2', key: ['id'] },
      forward: { title: 'label' },
      backward: { label: 'title' },
      soakSeconds: 0,
      retireSoakSeconds: 0,
    },
  ],
}

interface Rows {
  legacy: unknown[]
  shadow: unknown[]
  items: unknown[]
}

/** Every row of a relation, every column, in key order. */
async function contents(relation: string): Promise<Record<string, unknown>[]> {
  return db.query(`SELECT * FROM ${relation} ORDER BY 1`)
}

/** Every row of the legacy table (under whichever name it has now), the shadow and the child table. */
async function rows(legacyName: 'orders' | 'orders_retired'): Promise<Rows> {
  return {
    legacy: await contents(legacyName),
    shadow: await contents('orders_v2'),
    items: await contents('order_items'),
  }
}

interface Constraint {
  table: string
  name: string
  target: string | null
  validated: boolean
  def: string
}

/** Every constraint of the public schema: which table, which name, what it references, whether validated. */
async function constraints(): Promise<Constraint[]> {
  return db.query<Constraint>(
    `SELECT conrelid::regclass::text AS table, conname AS name, nullif(confrelid, 0)::regclass::text AS target, convalidated AS validated, pg_get_constraintdef(oid) AS def
       FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
  )
}

async function foreignKeysOfItems(): Promise<Constraint[]> {
  return (await constraints()).filter((c) => c.table === 'order_items' && c.target !== null)
}

/** Public relations, their kinds and grants, and every public constraint: the schema a person would compare. */
async function schema(): Promise<string> {
  const relations = await db.query(
    "SELECT relname AS name, relkind::text AS kind, relacl::text AS acl FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v') ORDER BY 1",
  )
  return JSON.stringify({ relations, constraints: await constraints() })
}

interface DoctorJson {
  findings: { code: string; message: string; command: string | null; severity: string }[]
  applied?: string[]
}

const parityFindings = (doc: DoctorJson) => doc.findings.filter((f) => f.code.startsWith('parity_'))

/** An order_item referencing an order no table has fails on the foreign key `constraint`; one referencing order 5 succeeds (and is removed again). */
async function expectChildForeignKeyEnforced(constraint: string): Promise<void> {
  await expect(db.query('INSERT INTO order_items (id, order_id, qty) VALUES (999, 424242, 1)')).rejects.toThrow(
    new RegExp(`violates foreign key constraint "${constraint}"`),
  )
  await db.query('INSERT INTO order_items (id, order_id, qty) VALUES (998, 5, 1)')
  expect(await db.query('SELECT id, order_id FROM order_items WHERE id = 998')).toEqual([{ id: 998, order_id: '5' }])
  await db.query('DELETE FROM order_items WHERE id = 998')
}

beforeAll(async () => {
  await db.query(ORDERS_DDL)
  await db.query(`
    CREATE TABLE order_items (id int PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE, qty int NOT NULL);
    INSERT INTO orders (id, customer_id, amount_cents, status, meta)
      SELECT g, gen_random_uuid()::text, g * 100, 'old', jsonb_build_object('g', g) FROM generate_series(101, 110) g;
    CREATE TABLE carts (id int PRIMARY KEY, label text NOT NULL);
    CREATE TABLE carts_v2 (id int PRIMARY KEY, title text NOT NULL);
    CREATE TABLE cart_lines (id int PRIMARY KEY, cart_id int NOT NULL REFERENCES carts (id) ON DELETE CASCADE);
    CREATE ROLE ${reader};
    GRANT SELECT ON orders, order_items TO ${reader};`)
  const dir = await tempDir('cutover-retire-parity-')
  const configPath = join(dir, 'cutover.json')
  await writeFile(configPath, JSON.stringify(config))
  expect((await cli('init')).code).toBe(0)
  expect((await cli('register', '--config', configPath)).code).toBe(0)
})

afterAll(async () => {
  await db.query(`DROP OWNED BY ${reader}; DROP ROLE ${reader}`).catch(() => undefined)
})

describe(
  'doctor --apply, complete without --force, retire --alias, unretire: the recommended path for a table a child table references',
  { timeout: SLOW_MS },
  () => {
    let before: Rows
    /** The schema once the shadow became authoritative: what unretire must bring back. */
    let authoritative: string

    it('migrates to 100 % reads with rows written through the DAL', async () => {
      expect((await cli('precheck', 'orders_v2')).code).toBe(0)
      expect((await cli('advance', 'orders_v2', '--to', 'dual_write')).code).toBe(0)
      const pool = new pg.Pool({ connectionString: db.url, max: 3 })
      pool.on('error', () => undefined)
      const cutover = await Cutover.connect({
        pool,
        registry: new Registry(),
        logger: silentLogger,
        random: () => 0,
        fallbackPollMs: 100,
        comparisons: { maxInFlight: 100 },
      })
      try {
        const dal = await cutover.migration('orders_v2')
        for (let id = 1; id <= 20; id++) await dal.insert(order(id, { amount_cents: id * 7 }))
        await dal.update(3, { status: 'paid' })
        await dal.delete(20)
      } finally {
        await cutover.close()
        await pool.end()
      }
      await db.query(
        'INSERT INTO order_items (id, order_id, qty) SELECT g, g, g FROM generate_series(1, 19) g UNION ALL SELECT 100 + g, 100 + g, 1 FROM generate_series(1, 10) g',
      )
      expect((await cli('backfill', 'orders_v2')).code).toBe(0)
      expect((await cli('verify', 'orders_v2')).code).toBe(0)
      expect((await cli('advance', 'orders_v2')).code).toBe(0)
      expect((await cli('ramp', 'orders_v2', '100')).code).toBe(0)
      before = await rows('orders')
      expect(before.legacy).toHaveLength(29)
      expect(before.shadow).toHaveLength(29)
      expect(before.items).toHaveLength(29)
    })

    it('doctor names the child foreign key the shadow lacks with its SQL, and changes nothing', async () => {
      const schemaBefore = await schema()
      const result = await cli('doctor', 'orders_v2', '--json')
      // A warning before shadow_primary: work to do, not yet a failure.
      expect(result.code).toBe(0)
      const gaps = parityFindings(result.json<DoctorJson>())
      expect(gaps).toContainEqual(
        expect.objectContaining({
          code: 'parity_foreign_key_in',
          severity: 'warning',
          message: expect.stringContaining(
            `the shadow lacks public.order_items.${LEGACY_FK}: foreign key "${LEGACY_FK}" (public.order_items (order_id) → public.orders (id)) references the legacy table`,
          ),
          command: `cutover doctor orders_v2 --apply   (runs: ${SHADOW_FK_SQL})`,
        }),
      )
      expect((await cli('doctor', 'orders_v2')).stdout).toContain(
        `parity_foreign_key_in: the shadow lacks public.order_items.${LEGACY_FK}`,
      )
      expect(await schema()).toBe(schemaBefore)
      expect(await rows('orders')).toEqual(before)
    })

    it('doctor --apply adds the equivalent foreign key referencing the shadow, validated; the legacy one stays', async () => {
      const result = await cli('doctor', 'orders_v2', '--apply', '--json')
      const doc = result.json<DoctorJson>()
      expect(doc.applied).toContain(SHADOW_FK_SQL)
      expect(parityFindings(doc)).toEqual([])
      expect(await foreignKeysOfItems()).toEqual([
        {
          table: 'order_items',
          name: LEGACY_FK,
          target: 'orders',
          validated: true,
          def: 'FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE',
        },
        {
          table: 'order_items',
          name: SHADOW_FK,
          target: 'orders_v2',
          validated: true,
          def: 'FOREIGN KEY (order_id) REFERENCES orders_v2(id) ON DELETE CASCADE',
        },
      ])
      expect(await db.query(`SELECT has_table_privilege('${reader}', 'orders_v2', 'SELECT') AS granted`)).toEqual([
        { granted: true },
      ])
      expect(await rows('orders')).toEqual(before)
      const again = await cli('doctor', 'orders_v2', '--json')
      expect(parityFindings(again.json<DoctorJson>())).toEqual([])
    })

    it('entering shadow_primary finds the equivalent key on the shadow and only drops the legacy one; complete then passes without --force', async () => {
      expect((await cli('advance', 'orders_v2')).code).toBe(0)
      expect(await foreignKeysOfItems()).toEqual([
        {
          table: 'order_items',
          name: SHADOW_FK,
          target: 'orders_v2',
          validated: true,
          def: 'FOREIGN KEY (order_id) REFERENCES orders_v2(id) ON DELETE CASCADE',
        },
      ])
      const [moved] = await db.query<{ details: Record<string, unknown> }>(
        "SELECT details FROM cutover.events WHERE migration = 'orders_v2' AND to_phase = 'shadow_primary'",
      )
      expect(moved?.details).toMatchObject({
        foreignKeysMoved: [{ name: LEGACY_FK, action: 'dropped', equivalent: SHADOW_FK }],
      })
      await expectChildForeignKeyEnforced(SHADOW_FK)
      expect((await cli('verify', 'orders_v2')).code).toBe(0)
      authoritative = await schema()
      const result = await cli('advance', 'orders_v2', '--to', 'complete', '--confirm')
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(await db.query("SELECT phase FROM cutover.state WHERE migration = 'orders_v2'")).toEqual([
        { phase: 'complete' },
      ])
      expect(
        await db.query("SELECT forced FROM cutover.events WHERE migration = 'orders_v2' AND to_phase = 'complete'"),
      ).toEqual([{ forced: false }])
      expect(await rows('orders')).toEqual(before)
    })

    it('retire --alias has no key left to move: the child still enforced against the shadow, the view reads the rows', async () => {
      const result = await cli('retire', 'orders_v2', '--alias', '--json')
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.json()).toMatchObject({
        migration: 'orders_v2',
        changed: true,
        legacyTable: 'public.orders',
        retiredTable: 'public.orders_retired',
        forced: false,
        foreignKeys: [],
        alias: { view: 'public.orders', grants: [`SELECT to ${reader}`] },
        dropSql: 'DROP TABLE "public"."orders_retired";',
      })
      // Exactly one foreign key of order_items, the one doctor added: none points at the retired table.
      expect(await foreignKeysOfItems()).toEqual([
        {
          table: 'order_items',
          name: SHADOW_FK,
          target: 'orders_v2',
          validated: true,
          def: 'FOREIGN KEY (order_id) REFERENCES orders_v2(id) ON DELETE CASCADE',
        },
      ])
      expect((await constraints()).filter((c) => c.target === 'orders_retired')).toEqual([])
      expect(
        await db.query("SELECT relkind::text AS kind FROM pg_class WHERE oid = 'public.orders'::regclass"),
      ).toEqual([{ kind: 'v' }])
      expect(await rows('orders_retired')).toEqual(before)
      await expectChildForeignKeyEnforced(SHADOW_FK)
      expect(await rows('orders_retired')).toEqual(before)

      // Code not yet moved reads the legacy name, as the role it always used, and gets the same rows.
      expect(await contents('orders')).toEqual(before.legacy)
      const client = await db.pool.connect()
      try {
        await client.query(`BEGIN; SET LOCAL ROLE ${reader}`)
        expect((await client.query('SELECT * FROM orders ORDER BY id')).rows).toEqual(before.legacy)
        expect(
          (
            await client.query(
              'SELECT o.id, i.qty FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = 7',
            )
          ).rows,
        ).toEqual([{ id: '7', qty: 7 }])
      } finally {
        await client.query('ROLLBACK')
        client.release()
      }
      const [event] = await db.query<{ forced: boolean; details: { foreignKeys: Record<string, unknown>[] } }>(
        "SELECT forced, details FROM cutover.events WHERE kind = 'retire'",
      )
      expect(event).toMatchObject({ forced: false, details: { foreignKeys: [] } })
      expect(
        (await cli('status', 'orders_v2', '--json')).json<{ migrations: Record<string, unknown>[] }>().migrations[0],
      ).toMatchObject({
        phase: 'complete',
        retired: { retiredTable: 'public.orders_retired', alias: 'public.orders' },
      })
      // Run again: nothing changes, and it reports the keys as the first run did.
      expect((await cli('retire', 'orders_v2', '--alias', '--json')).json()).toMatchObject({
        changed: false,
        retiredTable: 'public.orders_retired',
        foreignKeys: [],
      })
      expect(await foreignKeysOfItems()).toHaveLength(1)
    })

    it('unretire restores the legacy table under its name; the child keeps its key on the shadow (complete writes the shadow alone), no row changed', async () => {
      const result = await cli('unretire', 'orders_v2', '--json')
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.json()).toMatchObject({
        changed: true,
        legacyTable: 'public.orders',
        aliasDropped: true,
        foreignKeys: [],
      })
      expect(
        await db.query(
          "SELECT relname, relkind::text AS kind FROM pg_class WHERE relname IN ('orders', 'orders_retired')",
        ),
      ).toEqual([{ relname: 'orders', kind: 'r' }])
      // Relations, their grants and every constraint: exactly as before retire.
      expect(await schema()).toBe(authoritative)
      expect(await rows('orders')).toEqual(before)
      await expectChildForeignKeyEnforced(SHADOW_FK)
      expect(await rows('orders')).toEqual(before)
      expect(
        (await cli('status', 'orders_v2', '--json')).json<{ migrations: Record<string, unknown>[] }>().migrations[0],
      ).toMatchObject({ legacyTable: 'orders', retired: null })
      expect(parityFindings((await cli('doctor', 'orders_v2', '--json')).json<DoctorJson>())).toEqual([])
      expect((await cli('verify', 'orders_v2')).code).toBe(0)
    })
  },
)

describe('entering complete does not take a key with other actions for an equivalent one', { timeout: SLOW_MS }, () => {
  it("refuses, changing nothing, when the shadow's key on the same columns lacks the legacy key's ON DELETE CASCADE", async () => {
    await db.query(`
      INSERT INTO carts VALUES (1, 'a'), (2, 'b');
      INSERT INTO carts_v2 VALUES (1, 'a'), (2, 'b');
      INSERT INTO cart_lines VALUES (1, 1), (2, 2);
      -- written by hand, without the legacy key's ON DELETE CASCADE
      ALTER TABLE cart_lines ADD CONSTRAINT cart_lines_cart_v2_fkey FOREIGN KEY (cart_id) REFERENCES carts_v2 (id);`)
    expect((await cli('precheck', 'carts_v2')).code).toBe(0)
    expect((await cli('advance', 'carts_v2', '--to', 'dual_write')).code).toBe(0)
    expect((await cli('advance', 'carts_v2')).code).toBe(0)
    expect((await cli('ramp', 'carts_v2', '100', '--force')).code).toBe(0)
    // shadow_primary leaves the legacy key where it is (the DAL still writes legacy).
    expect((await cli('advance', 'carts_v2')).code).toBe(0)
    expect((await cli('verify', 'carts_v2')).code).toBe(0)
    const schemaBefore = await schema()
    const rowsBefore = {
      carts: await contents('carts'),
      shadow: await contents('carts_v2'),
      lines: await contents('cart_lines'),
    }
    // Parity sees the difference and refuses complete; forced, as a person in a hurry might, the key still cannot move.
    expect((await cli('advance', 'carts_v2', '--to', 'complete', '--confirm')).stderr).toContain(
      'public.cart_lines.cart_lines_cart_id_fkey',
    )
    const result = await cli('advance', 'carts_v2', '--to', 'complete', '--confirm', '--force')
    expect(result.stderr.trim()).toBe(
      'cutover: carts_v2: advance refused, nothing changed: 1 foreign key(s) cannot move to public.carts_v2: ' +
        'public.cart_lines.cart_lines_cart_id_fkey (cart_id): public.cart_lines.cart_lines_cart_v2_fkey already references public.carts_v2 (id) from the same columns but ' +
        'with ON DELETE NO ACTION where this key has ON DELETE CASCADE, so dropping this key for it would change what a write does; make that key match, ' +
        'or run cutover doctor carts_v2 --apply to add one that does; fix each, then run cutover advance carts_v2 --to complete --confirm again',
    )
    expect(result.code).toBe(1)
    expect(await schema()).toBe(schemaBefore)
    expect(await db.query("SELECT phase FROM cutover.state WHERE migration = 'carts_v2'")).toEqual([
      { phase: 'shadow_primary' },
    ])
    expect({
      carts: await contents('carts'),
      shadow: await contents('carts_v2'),
      lines: await contents('cart_lines'),
    }).toEqual(rowsBefore)

    // The fix it names: doctor --apply adds a key that acts like the legacy one; complete then drops the legacy key for that one.
    expect((await cli('doctor', 'carts_v2', '--apply', '--json')).json<DoctorJson>().applied).toContainEqual(
      expect.stringContaining('"cart_lines_cart_id_fkey_shadow"'),
    )
    expect((await cli('advance', 'carts_v2', '--to', 'complete', '--confirm')).code).toBe(0)
    expect(
      await db.query(
        "SELECT details->'foreignKeysMoved'->0->>'equivalent' AS equivalent FROM cutover.events WHERE migration = 'carts_v2' AND to_phase = 'complete'",
      ),
    ).toEqual([{ equivalent: 'cart_lines_cart_id_fkey_shadow' }])
    expect(await contents('cart_lines')).toEqual(rowsBefore.lines)
  })
})
