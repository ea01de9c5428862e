/** Issue 24: precheck compares every legacy row with what the application would read back, backward(forward(row)). */
import { beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { registerMigrations } from '../../src/actions/register.js'
import { GateRefused } from '../../src/core/errors.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { runPrecheck, type PrecheckResult } from '../../src/jobs/entry/precheck.js'
import { runCli } from '../support/cli.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'

const db = await freshDatabase()
const base = { schema: 'cutover', actor: 'test' }
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'])

// The README's split, as it was: a one-word name comes back with a trailing space.
const SPLIT = {
  name: 'users_v2',
  legacy: { table: 'public.users', key: ['id'] },
  shadow: { table: 'public.users_v2', key: ['id'] },
  forward: {
    first_name: "split_part(full_name, ' ', 1)",
    last_name: "substr(full_name, length(split_part(full_name, ' ', 1)) + 2)",
  },
  backward: { full_name: "first_name || ' ' || last_name" },
  compare: { email: 'lower' },
}
const SPLIT_FIXED = { ...SPLIT, backward: { full_name: "concat_ws(' ', first_name, nullif(last_name, ''))" } }

// The reverse: first and last name merged; a two-word first name comes back split at its first space.
const MERGE = {
  name: 'people_v2',
  legacy: { table: 'public.people', key: ['id'] },
  shadow: { table: 'public.people_v2', key: ['id'] },
  forward: { full_name: "first_name || ' ' || last_name" },
  backward: {
    first_name: "split_part(full_name, ' ', 1)",
    last_name: "substr(full_name, length(split_part(full_name, ' ', 1)) + 2)",
  },
}

// An enum that has no value for some legacy colours: they become NULL on both sides.
const PAINT = {
  name: 'paints_v2',
  legacy: { table: 'public.paints', key: ['id'] },
  shadow: { table: 'public.paints_v2', key: ['id'] },
  forward: { color: "CASE WHEN color IN ('red', 'green', 'blue') THEN color::color_t END" },
  // color_t lives in public, which a mapping may name unqualified only when the definition trusts it (issue 23).
  trustedSchemas: ['public'],
  backward: { color: 'color::text' },
}

// A backward that fails on some shadow values: the round trip cannot be evaluated for them.
const CODES = {
  name: 'codes_v2',
  legacy: { table: 'public.codes', key: ['id'] },
  shadow: { table: 'public.codes_v2', key: ['id'] },
  forward: { code: 'code' },
  backward: { code: '(code::numeric)::text' },
}

function roundTripClasses(result: PrecheckResult) {
  return result.classes.filter((c) => c.kind === 'round_trip')
}

async function snapshot(table: string, shadow: string): Promise<string> {
  const rows =
    await db.query(`SELECT (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM ${table} t) AS legacy,
    (SELECT count(*) FROM ${shadow})::int AS shadow, (SELECT count(*) FROM cutover.jobs)::int AS jobs`)
  return JSON.stringify(rows[0])
}

async function phase(migration: string): Promise<string> {
  return (
    (await db.query<{ phase: string }>('SELECT phase FROM cutover.state WHERE migration = $1', [migration]))[0]
      ?.phase ?? ''
  )
}

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(`
    CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, full_name text NOT NULL);
    CREATE TABLE users_v2 (id bigint PRIMARY KEY, email text NOT NULL, first_name text NOT NULL, last_name text NOT NULL);
    INSERT INTO users SELECT g, 'u' || g || '@example.com', 'First' || g || ' Last' || g FROM generate_series(1, 3000) g;
    UPDATE users SET full_name = 'Madonna' WHERE id = 7;
    UPDATE users SET full_name = 'Cher' WHERE id = 2500;
    UPDATE users SET full_name = 'Mary Ann Smith' WHERE id = 1200;
    CREATE TABLE people (id bigint PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL);
    CREATE TABLE people_v2 (id bigint PRIMARY KEY, full_name text NOT NULL);
    INSERT INTO people SELECT g, 'First' || g, 'Last' || g FROM generate_series(1, 1000) g;
    UPDATE people SET first_name = 'Mary Ann', last_name = 'Smith' WHERE id = 40;
    CREATE TYPE color_t AS ENUM ('red', 'green', 'blue');
    CREATE TABLE paints (id int PRIMARY KEY, color text);
    CREATE TABLE paints_v2 (id int PRIMARY KEY, color color_t);
    INSERT INTO paints SELECT g, (ARRAY['red', 'green', 'blue'])[1 + g % 3] FROM generate_series(1, 600) g;
    UPDATE paints SET color = 'purple' WHERE id IN (10, 11, 500);
    UPDATE paints SET color = NULL WHERE id = 12;
    CREATE TABLE codes (id int PRIMARY KEY, code text NOT NULL);
    CREATE TABLE codes_v2 (id int PRIMARY KEY, code text NOT NULL);
    INSERT INTO codes SELECT g, g::text FROM generate_series(1, 200) g;
    UPDATE codes SET code = 'x-17' WHERE id = 17;`)
  await registerMigrations(
    db.pool,
    [parseMigration(SPLIT), parseMigration(MERGE), parseMigration(PAINT), parseMigration(CODES)],
    base,
  )
})

describe('precheck: the round trip of every legacy row', { timeout: 180_000 }, () => {
  it("names the README's split: one-word names come back with a trailing space (keys, column, both values, a listing query); three words come back whole", async () => {
    const before = await snapshot('users', 'users_v2')
    const result = await runPrecheck(db.pool, { ...base, migration: 'users_v2', chunkRows: 500 })
    expect(result).toMatchObject({ rows: 3000, clean: false, failingRows: 2, collisionsChecked: true })
    const [split, ...others] = roundTripClasses(result)
    expect(others).toEqual([])
    expect(split).toMatchObject({
      kind: 'round_trip',
      column: 'full_name',
      sqlstate: '',
      count: 2,
      examples: [['7'], ['2500']],
      exampleValues: [
        { legacy: 'Madonna', roundTrip: 'Madonna ' },
        { legacy: 'Cher', roundTrip: 'Cher ' },
      ],
      message: "full_name: 'Madonna' comes back from the shadow as 'Madonna '",
    })
    const listed = await db.query<{ key: string[]; column_name: string }>(split?.query ?? '')
    expect(listed.map((r) => [r.key, r.column_name])).toEqual([
      [['7'], 'full_name'],
      [['2500'], 'full_name'],
    ])
    expect(await snapshot('users', 'users_v2')).toBe(before)
  })

  it('refuses advance to dual_write on that evidence, from code and the CLI, and doctor names the class', async () => {
    await expect(advance(db.pool, { ...base, migration: 'users_v2' })).rejects.toThrow(GateRefused)
    const refused = await cli('advance', 'users_v2')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('round_trip (column full_name) the value the application reads back')
    const doctor = await cli('doctor', 'users_v2', '--json')
    const findings = doctor
      .json<{ findings: { code: string; message: string }[] }>()
      .findings.filter((f) => f.code.startsWith('precheck'))
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'precheck_failing',
        message: expect.stringContaining('round_trip (column full_name)'),
      }),
    ])
    expect(await phase('users_v2')).toBe('off')
  })

  it('prints the keys, the column and both values from the CLI, and exits 1', async () => {
    const run = await cli('precheck', 'users_v2')
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      'round_trip (column full_name) the value the application reads back, backward(forward(row)), differs from the one it wrote: 2 row(s)',
    )
    expect(run.stdout).toContain(
      'keys: ["7"] ("Madonna" reads back as "Madonna "), ["2500"] ("Cher" reads back as "Cher ")',
    )
  })

  it('a changed mapping makes the evidence stale; the fixed one is clean and advance passes', async () => {
    await registerMigrations(db.pool, [parseMigration(SPLIT_FIXED)], base)
    await expect(advance(db.pool, { ...base, migration: 'users_v2' })).rejects.toThrow(
      /checked definition version 1, and the registered one is version 2/,
    )
    const result = await runPrecheck(db.pool, { ...base, migration: 'users_v2', chunkRows: 500 })
    expect(result).toMatchObject({ rows: 3000, clean: true, failingRows: 0, classes: [] })
    await advance(db.pool, { ...base, migration: 'users_v2' })
    expect(await phase('users_v2')).toBe('dual_write')
  })

  it('names the merge: a two-word first name comes back split at its first space, in both legacy columns', async () => {
    const result = await runPrecheck(db.pool, { ...base, migration: 'people_v2' })
    expect(result).toMatchObject({ rows: 1000, clean: false, failingRows: 1 })
    expect(roundTripClasses(result).map((c) => [c.column, c.count, c.examples, c.exampleValues])).toEqual([
      ['first_name', 1, [['40']], [{ legacy: 'Mary Ann', roundTrip: 'Mary' }]],
      ['last_name', 1, [['40']], [{ legacy: 'Smith', roundTrip: 'Ann Smith' }]],
    ])
    await expect(advance(db.pool, { ...base, migration: 'people_v2' })).rejects.toThrow(GateRefused)
  })

  it('names the enum: a colour the enum lacks is stored as NULL; a NULL colour round-trips', async () => {
    const result = await runPrecheck(db.pool, { ...base, migration: 'paints_v2' })
    expect(result).toMatchObject({ rows: 600, clean: false, failingRows: 3 })
    expect(roundTripClasses(result)).toEqual([
      expect.objectContaining({
        column: 'color',
        count: 3,
        examples: [['10'], ['11'], ['500']],
        exampleValues: [
          { legacy: 'purple', roundTrip: null },
          { legacy: 'purple', roundTrip: null },
          { legacy: 'purple', roundTrip: null },
        ],
      }),
    ])
    await expect(advance(db.pool, { ...base, migration: 'paints_v2' })).rejects.toThrow(GateRefused)
    // --force overrides the evidence gate, and the event records it.
    const forced = await cli('advance', 'paints_v2', '--force')
    expect(forced.code).toBe(0)
    const [event] = await db.query<{ details: { overriddenGate?: string } }>(
      "SELECT details FROM cutover.events WHERE migration = 'paints_v2' AND kind <> 'precheck' ORDER BY id DESC LIMIT 1",
    )
    expect(event?.details.overriddenGate).toBe('dual_write')
    expect(await phase('paints_v2')).toBe('dual_write')
  })

  it('bad input: a backward that fails on some shadow values is reported with its SQLSTATE and keys, and nothing is written', async () => {
    const before = await snapshot('codes', 'codes_v2')
    const result = await runPrecheck(db.pool, { ...base, migration: 'codes_v2' })
    expect(result).toMatchObject({ rows: 200, clean: false, failingRows: 1, collisionsChecked: false })
    expect(result.classes).toEqual([
      expect.objectContaining({
        kind: 'backward',
        sqlstate: '22P02',
        count: 1,
        examples: [['17']],
        message: 'invalid input syntax for type numeric: "x-17"',
      }),
    ])
    expect(await snapshot('codes', 'codes_v2')).toBe(before)
  })
})
