/** Each class of row the mapping cannot carry, found by runPrecheck against real tables, with nothing written to either. */
import { beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { registerMigrations } from '../../src/actions/register.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { runPrecheck, type PrecheckResult } from '../../src/jobs/entry/precheck.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'

const db = await freshDatabase()
const base = { schema: 'cutover', actor: 'test' }

const PEOPLE = {
  name: 'people_v2',
  legacy: { table: 'public.people', key: ['id'] },
  shadow: { table: 'public.people_v2', key: ['id'] },
  forward: { age: 'age::int' },
  // A mistake on purpose: the score goes back multiplied, past what the legacy smallint holds (0, every other row's score, comes back unchanged).
  backward: { age: 'age::text', score: 'score * 100' },
}

const TAGS = {
  name: 'tags_v2',
  legacy: { table: 'public.tags', key: ['id'] },
  shadow: { table: 'public.tags_v2', key: ['id'] },
  forward: { id: 'id::uuid' },
  backward: { id: 'id::text' },
}

/** Both tables' contents and the job tables, to show a precheck wrote nothing. */
async function snapshot(): Promise<string> {
  const rows = await db.query(`SELECT (SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM people p) AS people,
      (SELECT count(*) FROM people_v2)::int AS people_v2, (SELECT count(*) FROM tags_v2)::int AS tags_v2,
      (SELECT count(*) FROM cutover.jobs)::int AS jobs, (SELECT count(*) FROM cutover.job_chunks)::int AS chunks`)
  return JSON.stringify(rows[0])
}

function classOf(result: PrecheckResult, sqlstate: string) {
  const found = result.classes.filter((c) => c.sqlstate === sqlstate)
  expect(found).toHaveLength(1)
  return found[0] as PrecheckResult['classes'][number]
}

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(`
    CREATE TABLE teams (code text PRIMARY KEY);
    INSERT INTO teams VALUES ('red'), ('blue');
    CREATE TABLE people (id bigint PRIMARY KEY, age text, nickname text, email text, team text, score smallint NOT NULL DEFAULT 0);
    CREATE TABLE people_v2 (id bigint PRIMARY KEY, age int, nickname varchar(8), email text NOT NULL, team text REFERENCES teams (code) DEFERRABLE INITIALLY DEFERRED,
                            score int NOT NULL CHECK (score >= 0));
    INSERT INTO people (id, age, nickname, email, team) SELECT g, (20 + g % 50)::text, 'p' || g, 'p' || g || '@example.com', 'red' FROM generate_series(1, 3000) g;
    UPDATE people SET age = 'seven' WHERE id = 700;
    UPDATE people SET age = '99999999999' WHERE id = 900;
    UPDATE people SET nickname = 'much-too-long' WHERE id IN (1100, 1101);
    UPDATE people SET email = NULL WHERE id = 1300;
    UPDATE people SET team = 'nope' WHERE id = 1500;
    UPDATE people SET score = 1000 WHERE id = 1700;
    UPDATE people SET score = -1 WHERE id = 1900;
    CREATE TABLE tags (id varchar(40) PRIMARY KEY);
    CREATE TABLE tags_v2 (id uuid PRIMARY KEY);
    INSERT INTO tags SELECT gen_random_uuid()::text FROM generate_series(1, 500);
    INSERT INTO tags VALUES ('5b2c1a8e-0f4e-4a4e-9d55-3c0b3e6f7a10'), ('5B2C1A8E-0F4E-4A4E-9D55-3C0B3E6F7A10');`)
  await registerMigrations(db.pool, [parseMigration(PEOPLE), parseMigration(TAGS)], base)
})

describe('runPrecheck: every class, its count, its PostgreSQL error and its keys', { timeout: 180_000 }, () => {
  let result: PrecheckResult
  let before: string

  beforeAll(async () => {
    before = await snapshot()
    result = await runPrecheck(db.pool, { ...base, migration: 'people_v2', chunkRows: 500 })
  })

  it('covers every legacy row and counts each failing one once', () => {
    expect(result).toMatchObject({ rows: 3000, clean: false, failingRows: 8, collisionsChecked: false })
    expect(result.classes.map((c) => c.count).reduce((a, b) => a + b)).toBe(8)
  })

  it('text that does not parse as a number (22P02), and one past the new integer type (22003)', () => {
    expect(classOf(result, '22P02')).toMatchObject({
      kind: 'forward',
      count: 1,
      examples: [['700']],
      pattern: 'invalid input syntax for type integer: "…"',
      message: 'invalid input syntax for type integer: "seven"',
    })
    expect(result.classes.find((c) => c.sqlstate === '22003' && c.kind === 'forward')).toMatchObject({
      count: 1,
      examples: [['900']],
      message: 'value "99999999999" is out of range for type integer',
      pattern: 'value "…" is out of range for type integer',
    })
  })

  it('a value too long for varchar(8) (22001)', () => {
    expect(classOf(result, '22001')).toMatchObject({
      kind: 'forward',
      count: 2,
      examples: [['1100'], ['1101']],
      message: 'value too long for type character varying(8)',
    })
  })

  it('NULL into a NOT NULL column (23502), naming the column', () => {
    expect(classOf(result, '23502')).toMatchObject({ kind: 'forward', column: 'email', count: 1, examples: [['1300']] })
  })

  it('a foreign key of the shadow that points nowhere (23503), even when deferrable, naming the constraint', () => {
    expect(classOf(result, '23503')).toMatchObject({
      kind: 'forward',
      constraint: 'people_v2_team_fkey',
      count: 1,
      examples: [['1500']],
    })
  })

  it('a CHECK constraint of the shadow (23514)', () => {
    expect(classOf(result, '23514')).toMatchObject({
      kind: 'forward',
      constraint: 'people_v2_score_check',
      count: 1,
      examples: [['1900']],
    })
  })

  it('a backward mapping that does not fit the legacy column type', () => {
    expect(result.classes.find((c) => c.kind === 'backward')).toMatchObject({
      sqlstate: '22003',
      count: 1,
      examples: [['1700']],
      message: 'smallint out of range',
    })
  })

  it('each class query lists exactly its keys', async () => {
    for (const c of result.classes) {
      const listed = await db.query<{ key: string[] }>(c.query)
      expect(listed.map((r) => r.key)).toEqual(c.examples)
    }
  })

  it('writes nothing to either table and no job rows; records one precheck event', async () => {
    expect(await snapshot()).toBe(before)
    const events = await db.query<{ details: { clean: boolean; failingRows: number; classes: unknown[] } }>(
      "SELECT details FROM cutover.events WHERE migration = 'people_v2' AND kind = 'precheck'",
    )
    expect(events).toHaveLength(1)
    expect(events[0]?.details).toMatchObject({ clean: false, failingRows: 8, definitionVersion: 1 })
    expect(events[0]?.details.classes).toHaveLength(result.classes.length)
  })
})

describe('rows that map onto one unique key of the shadow', () => {
  it('an upper- and a lower-case UUID are one uuid: both keys are named, and the query lists them', async () => {
    const before = await snapshot()
    const result = await runPrecheck(db.pool, { ...base, migration: 'tags_v2' })
    // The upper-case one is also read back in lower case: a round trip that changes it (counted in both classes).
    expect(result).toMatchObject({ rows: 502, clean: false, failingRows: 3, collisionsChecked: true })
    expect(result.classes).toHaveLength(2)
    expect(result.classes[1]).toMatchObject({
      kind: 'round_trip',
      column: 'id',
      count: 1,
      examples: [['5B2C1A8E-0F4E-4A4E-9D55-3C0B3E6F7A10']],
      exampleValues: [
        { legacy: '5B2C1A8E-0F4E-4A4E-9D55-3C0B3E6F7A10', roundTrip: '5b2c1a8e-0f4e-4a4e-9d55-3c0b3e6f7a10' },
      ],
    })
    expect(result.classes[0]).toMatchObject({
      kind: 'collision',
      sqlstate: '23505',
      column: 'id',
      count: 2,
      examples: [['5B2C1A8E-0F4E-4A4E-9D55-3C0B3E6F7A10'], ['5b2c1a8e-0f4e-4a4e-9d55-3c0b3e6f7a10']],
    })
    const listed = await db.query<{ value: string; count: number }>(result.classes[0]?.query ?? '')
    expect(listed).toEqual([expect.objectContaining({ value: '5b2c1a8e-0f4e-4a4e-9d55-3c0b3e6f7a10', count: 2 })])
    expect(await snapshot()).toBe(before)
  })
})

describe('the gate of dual_write', () => {
  it('force overrides an unclean precheck and the event records what it overrode', async () => {
    await expect(advance(db.pool, { ...base, migration: 'tags_v2' })).rejects.toThrow(
      /gate "dual_write" not met: the last precheck found 3 legacy row\(s\)/,
    )
    const result = await advance(db.pool, {
      ...base,
      migration: 'tags_v2',
      force: true,
      reason: 'known duplicates, fixed by hand',
    })
    expect(result).toMatchObject({ changed: true, overriddenGate: 'dual_write', to: { phase: 'dual_write' } })
    const events = await db.query<{ forced: boolean; details: Record<string, unknown> }>(
      "SELECT forced, details FROM cutover.events WHERE migration = 'tags_v2' AND kind = 'advance'",
    )
    expect(events).toEqual([
      {
        forced: true,
        details: expect.objectContaining({
          overriddenGate: 'dual_write',
          overriddenBecause: expect.stringContaining('3 legacy row(s)'),
        }),
      },
    ])
  })

  it('a clean precheck of an older definition version does not count', async () => {
    await db.query(
      `UPDATE people SET age = '7', score = 1, nickname = 'short', email = 'x@example.com', team = 'red' WHERE id IN (700, 900, 1100, 1101, 1300, 1500, 1700, 1900)`,
    )
    await registerMigrations(
      db.pool,
      [parseMigration({ ...PEOPLE, backward: { age: 'age::text', score: 'score::smallint' } })],
      base,
    )
    // The mapping changed: the precheck before the change said nothing about it.
    expect((await runPrecheck(db.pool, { ...base, migration: 'people_v2' })).clean).toBe(true)
    await registerMigrations(
      db.pool,
      [parseMigration({ ...PEOPLE, backward: { age: 'age::text', score: '(score)::smallint' } })],
      base,
    )
    await expect(advance(db.pool, { ...base, migration: 'people_v2' })).rejects.toThrow(
      'people_v2: gate "dual_write" not met: the last precheck checked definition version 2, and the registered one is version 3; run: cutover precheck people_v2',
    )
    expect((await runPrecheck(db.pool, { ...base, migration: 'people_v2' })).clean).toBe(true)
    expect((await advance(db.pool, { ...base, migration: 'people_v2' })).to.phase).toBe('dual_write')
  })
})
