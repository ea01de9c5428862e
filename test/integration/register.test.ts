import { beforeAll, describe, expect, it } from 'vitest'
import { ConfigInvalid } from '../../src/core/errors.js'
import { parseConfig, parseMigration } from '../../src/core/parse-config.js'
import { registerMigrations } from '../../src/actions/register.js'
import { controlSnapshot, initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'

const db = await freshDatabase()
const options = { schema: 'cutover', actor: 'test', reason: 'test' }

function migration(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'items_v2',
    legacy: { table: 'public.items', key: ['id'] },
    shadow: { table: 'public.items_v2', key: ['id'] },
    forward: { label: 'upper(name)', owner: 'owner_id::uuid' },
    backward: { name: 'lower(label)', owner_id: 'owner::text' },
    ...overrides,
  }
}

async function expectRefusal(config: Record<string, unknown>, message: RegExp): Promise<void> {
  const before = await controlSnapshot(db.pool)
  const error = await registerMigrations(db.pool, [parseMigration(config)], options).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ConfigInvalid)
  expect((error as Error).message).toMatch(message)
  expect((error as Error).message).not.toContain('\n')
  expect(await controlSnapshot(db.pool)).toBe(before)
}

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(`
    CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, owner_id varchar(36), note text);
    CREATE TABLE items_v2 (id bigint PRIMARY KEY, label text NOT NULL, owner uuid, note text, created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE no_key (id bigint NOT NULL, name text);
    CREATE TABLE strict_shadow (id bigint PRIMARY KEY, label text, required_col int NOT NULL);
    CREATE TABLE int_shadow (id bigint PRIMARY KEY, label text, owner int);
    CREATE TABLE other_shadow (id bigint PRIMARY KEY, label text, owner uuid, note text);
  `)
})

describe('registration', () => {
  it('registers a valid migration with its state row at off and an event naming the actor', async () => {
    const [checked] = await registerMigrations(db.pool, [parseMigration(migration())], options)
    expect(checked?.mapping.forward.map((m) => m.column)).toEqual(['id', 'label', 'owner', 'note'])
    expect(
      await db.query("SELECT phase, read_percent, authority FROM cutover.state WHERE migration = 'items_v2'"),
    ).toEqual([{ phase: 'off', read_percent: 0, authority: 'legacy' }])
    expect(await db.query("SELECT actor, kind, reason FROM cutover.events WHERE migration = 'items_v2'")).toEqual([
      { actor: 'test', kind: 'registered', reason: 'test' },
    ])
  })

  it('refuses a missing legacy table', async () => {
    await expectRefusal(
      migration({ name: 'm1', legacy: { table: 'public.nope', key: ['id'] } }),
      /^migration "m1": legacy table public\.nope does not exist; create it or fix "legacy\.table"$/,
    )
  })

  it('refuses a missing shadow table', async () => {
    await expectRefusal(
      migration({ name: 'm2', shadow: { table: 'public.nope_v2', key: ['id'] } }),
      /^migration "m2": shadow table public\.nope_v2 does not exist/,
    )
  })

  it('refuses a key that is not the primary key or a unique index', async () => {
    await expectRefusal(
      migration({
        name: 'm3',
        legacy: { table: 'public.no_key', key: ['id'] },
        backward: {},
        forward: { label: 'name', owner: 'NULL' },
      }),
      /^migration "m3": legacy key \(id\) is not the primary key or a unique index of public\.no_key; add one: CREATE UNIQUE INDEX ON "public"\."no_key" \("id"\)$/,
    )
  })

  it('refuses a key column that does not exist', async () => {
    await expectRefusal(
      migration({ name: 'm4', shadow: { table: 'public.items_v2', key: ['uid'] } }),
      /^migration "m4": key column "uid" is not a column of shadow table public\.items_v2; fix "shadow\.key"$/,
    )
  })

  it('refuses a NOT NULL shadow column with no mapping and no default', async () => {
    await expectRefusal(
      migration({
        name: 'm5',
        shadow: { table: 'public.strict_shadow', key: ['id'] },
        forward: { label: 'name' },
        backward: { name: 'label', owner_id: 'NULL', note: 'NULL' },
      }),
      /^migration "m5": shadow column "required_col" of public\.strict_shadow is NOT NULL with no default and no mapping; add "forward": \{"required_col": .*or give the column a default$/,
    )
  })

  it('refuses a forward expression that does not compile against the legacy table', async () => {
    await expectRefusal(
      migration({ name: 'm6', forward: { label: 'upper(no_such_column)', owner: 'owner_id::uuid' } }),
      /^migration "m6": "forward\.label" \(upper\(no_such_column\)\) does not fit shadow column "label": column "no_such_column" does not exist; fix "forward\.label"$/,
    )
  })

  it('refuses a forward expression whose type cannot be assigned to the shadow column', async () => {
    await expectRefusal(
      migration({
        name: 'm7',
        shadow: { table: 'public.int_shadow', key: ['id'] },
        forward: { label: 'name', owner: 'now()' },
        backward: { name: 'label', owner_id: 'owner::text', note: 'NULL' },
      }),
      /^migration "m7": "forward\.owner" \(now\(\)\) does not fit shadow column "owner": column "owner" is of type integer but expression is of type timestamp with time zone; fix "forward\.owner"$/,
    )
  })

  it('refuses a backward expression that does not compile against the shadow table', async () => {
    await expectRefusal(
      migration({ name: 'm8', backward: { name: 'lower(nope)', owner_id: 'owner::text' } }),
      /^migration "m8": "backward\.name" \(lower\(nope\)\) does not fit legacy column "name": column "nope" does not exist; fix "backward\.name"$/,
    )
  })

  it('refuses a name that is not [a-z][a-z0-9_]*', () => {
    for (const name of ['Items', '1items', 'items-v2', '', 'items v2']) {
      expect(() => parseMigration(migration({ name }))).toThrow(
        /is not a valid name; use lower-case letters, digits and _ starting with a letter/,
      )
    }
  })

  it('refuses a second migration on a shadow table another migration already uses', async () => {
    await expectRefusal(
      migration({ name: 'm9' }),
      /^migration "m9": shadow table public\.items_v2 already belongs to migration "items_v2"; each shadow table belongs to one migration$/,
    )
  })

  it('refuses two migrations on the same shadow table in one config', () => {
    expect(() => parseConfig({ migrations: [migration({ name: 'a1' }), migration({ name: 'a2' })] })).toThrow(
      /^migration "a2": uses the same shadow table public\.items_v2 as migration "a1"/,
    )
  })

  it('refuses the whole config when one of its migrations is refused, writing none of them', async () => {
    const before = await controlSnapshot(db.pool)
    const good = parseMigration(migration({ name: 'ok_one', shadow: { table: 'public.other_shadow', key: ['id'] } }))
    const bad = parseMigration(
      migration({
        name: 'bad_one',
        legacy: { table: 'public.missing', key: ['id'] },
        shadow: { table: 'public.int_shadow', key: ['id'] },
      }),
    )
    await expect(registerMigrations(db.pool, [good, bad], options)).rejects.toThrow(/bad_one/)
    expect(await controlSnapshot(db.pool)).toBe(before)
  })

  it('refuses a mapping expression that tries to escape its context, without running it', async () => {
    await db.query('CREATE TABLE victim (id int)')
    for (const expression of [
      '1); DROP TABLE victim; --',
      'name) FROM items; DROP TABLE victim; SELECT (1',
      '1 /* x */',
      'upper(name) -- rest',
    ]) {
      expect(() =>
        parseMigration(migration({ name: 'm10', forward: { label: expression, owner: 'owner_id::uuid' } })),
      ).toThrow(ConfigInvalid)
    }
    // An expression the lexical guard lets through still only ever runs as one compiled statement.
    await expectRefusal(
      migration({ name: 'm11', forward: { label: 'name FROM items UNION SELECT name', owner: 'owner_id::uuid' } }),
      /does not fit shadow column "label"/,
    )
    expect(await db.query("SELECT 1 AS present FROM pg_tables WHERE tablename = 'victim'")).toEqual([{ present: 1 }])
  })
})

describe('hostile and mixed-case identifiers', () => {
  it('quotes every table and column name, so names holding SQL are inert and work as names', async () => {
    await db.query(`
      CREATE SCHEMA "Odd Schema";
      CREATE TABLE "Odd Schema"."users; DROP TABLE victim2" ("Id" bigint PRIMARY KEY, "Full Name" text, "a""b" int);
      CREATE TABLE "Odd Schema"."Users_V2" ("ID" bigint PRIMARY KEY, "select" text, "a""b" int);
      CREATE TABLE victim2 (id int);
    `)
    const config = {
      name: 'hostile',
      legacy: { table: '"Odd Schema"."users; DROP TABLE victim2"', key: ['Id'] },
      shadow: { table: '"Odd Schema".Users_V2', key: ['ID'] },
      forward: { ID: '"Id"', select: '"Full Name"' },
      backward: { Id: '"ID"', 'Full Name': '"select"' },
    }
    const [checked] = await registerMigrations(db.pool, [parseMigration(config)], options)
    expect(checked?.mapping.forward).toEqual([
      { column: 'ID', expression: '"Id"' },
      { column: 'select', expression: '"Full Name"' },
      { column: 'a"b', expression: '"a""b"' },
    ])
    expect(await db.query("SELECT 1 AS present FROM pg_tables WHERE tablename = 'victim2'")).toEqual([{ present: 1 }])
    const stored = await db.query<{ legacy: string; shadow: string }>(
      "SELECT legacy_table::text AS legacy, shadow_table::text AS shadow FROM cutover.migrations WHERE name = 'hostile'",
    )
    expect(stored).toEqual([{ legacy: '"Odd Schema"."users; DROP TABLE victim2"', shadow: '"Odd Schema"."Users_V2"' }])
  })
})
