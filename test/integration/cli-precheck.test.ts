/** Issue 15: `cutover precheck` finds the legacy rows the mapping cannot carry, and entering dual_write waits for a clean one. */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { GateRefused } from '../../src/core/errors.js'
import { runCli } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'])
let dir: string

const BAD_IDS = ['0000-broken', 'ACME_0042', 'legacy-17']

const ACCOUNTS = {
  name: 'accounts_v2',
  legacy: { table: 'public.accounts', key: ['id'] },
  shadow: { table: 'public.accounts_v2', key: ['id'] },
  forward: { id: 'id::uuid' },
  backward: { id: 'id::text' },
}

interface PrecheckDoc {
  rows: number
  clean: boolean
  failingRows: number
  definitionVersion: number
  collisionsChecked: boolean
  classes: {
    kind: string
    sqlstate: string
    column: string | null
    constraint: string | null
    pattern: string
    message: string
    count: number
    examples: string[][]
    query: string
  }[]
}

/** What the precheck must never change: both tables' rows and the job tables. */
async function untouched(): Promise<string> {
  const rows = await db.query<{ legacy: string; shadow: string; jobs: number; chunks: number }>(
    `SELECT (SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM accounts a) AS legacy,
            (SELECT count(*) FROM accounts_v2)::text AS shadow,
            (SELECT count(*) FROM cutover.jobs)::int AS jobs, (SELECT count(*) FROM cutover.job_chunks)::int AS chunks`,
  )
  return JSON.stringify(rows[0])
}

interface Finding {
  code: string
  severity: string
  message: string
  command: string
}

/** The doctor's precheck findings for accounts_v2. */
async function precheckFindings(): Promise<Finding[]> {
  const doctor = await cli('doctor', 'accounts_v2', '--json')
  return doctor.json<{ findings: Finding[] }>().findings.filter((f) => f.code.startsWith('precheck'))
}

async function phase(): Promise<string> {
  return (
    (await db.query<{ phase: string }>("SELECT phase FROM cutover.state WHERE migration = 'accounts_v2'"))[0]?.phase ??
    ''
  )
}

beforeAll(async () => {
  dir = await tempDir('cutover-precheck-')
  await db.query(`
    CREATE TABLE accounts (id varchar(40) PRIMARY KEY, email text NOT NULL);
    CREATE TABLE accounts_v2 (id uuid PRIMARY KEY, email text NOT NULL);
    INSERT INTO accounts SELECT gen_random_uuid()::text, 'user' || g || '@example.com' FROM generate_series(1, ${20_000 - BAD_IDS.length}) g;
    INSERT INTO accounts SELECT id, id || '@example.com' FROM unnest($$${`{${BAD_IDS.join(',')}}`}$$::text[]) AS id;`)
  const config = join(dir, 'cutover.json')
  await writeFile(config, JSON.stringify({ migrations: [ACCOUNTS] }))
  expect((await cli('init')).code).toBe(0)
  expect((await cli('register', '--config', config)).code).toBe(0)
})

describe('cutover precheck on 20,000 varchar ids of which three are not UUIDs', { timeout: 300_000 }, () => {
  it('advance to dual_write is refused before any precheck, naming the command, which then runs', async () => {
    const before = await controlSnapshot(db.pool)
    const refused = await cli('advance', 'accounts_v2', '--to', 'dual_write')
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim()).toBe(
      'cutover: accounts_v2: gate "dual_write" not met: no precheck of the mapping over the legacy rows has run; run: cutover precheck accounts_v2',
    )
    expect(await controlSnapshot(db.pool)).toBe(before)
    expect(await precheckFindings()).toEqual([
      {
        migration: 'accounts_v2',
        severity: 'warning',
        code: 'precheck_missing',
        command: 'cutover precheck accounts_v2',
        message:
          'accounts_v2 is in off with no precheck on record: entering dual_write is refused until the mapping carries every legacy row',
      },
    ])
    // The suggested command is one the tool accepts: it runs (and finds the bad rows: exit 1, not 2).
    const suggested = /run: (cutover .*)$/.exec(refused.stderr.trim())?.[1]?.split(' ').slice(1) ?? []
    const ran = await cli(...suggested)
    expect(ran.stderr).toMatch(
      /^cutover: accounts_v2: 3 legacy row\(s\) cannot be mapped or do not come back unchanged; fix them \(or the mapping\), then run: cutover precheck accounts_v2\n$/,
    )
    expect(ran.code).toBe(1)
  })

  it('names each bad key and the cast error, exits 1, and copies nothing', async () => {
    const before = await untouched()
    const result = await cli('precheck', 'accounts_v2', '--json')
    expect(result.code).toBe(1)
    const doc = result.json<PrecheckDoc>()
    expect(doc).toMatchObject({
      rows: 20_000,
      clean: false,
      failingRows: 3,
      definitionVersion: 1,
      collisionsChecked: false,
    })
    expect(doc.classes).toHaveLength(1)
    expect(doc.classes[0]).toMatchObject({
      kind: 'forward',
      sqlstate: '22P02',
      column: null,
      constraint: null,
      count: 3,
      pattern: 'invalid input syntax for type uuid: "…"',
      message: 'invalid input syntax for type uuid: "0000-broken"',
      examples: BAD_IDS.map((id) => [id]),
    })
    expect(await untouched()).toBe(before)

    const human = await cli('precheck', 'accounts_v2')
    expect(human.code).toBe(1)
    expect(human.stdout).toContain(
      'accounts_v2: precheck of 20000 legacy rows (definition version 1): 3 cannot be mapped or do not come back unchanged, in 1 class(es)',
    )
    expect(human.stdout).toContain('forward 22P02 invalid input syntax for type uuid: "…": 3 row(s)')
    expect(human.stdout).toContain('keys: ["0000-broken"], ["ACME_0042"], ["legacy-17"]')
    expect(await untouched()).toBe(before)
  })

  it('prints a query that lists every failing key of the class with its error, and that query writes nothing either', async () => {
    // The state autovacuum leaves the shadow in after the trials above, all rolled back: pages, and statistics that
    // say no row lives in them. A plan that trusted them scanned the whole shadow once per key (CI timed out here).
    await db.query('ANALYZE accounts_v2')
    expect(
      (
        await db.query<{ relpages: number; reltuples: number }>(
          "SELECT relpages, reltuples FROM pg_class WHERE relname = 'accounts_v2'",
        )
      )[0],
    ).toMatchObject({ relpages: expect.any(Number), reltuples: 0 })
    const before = await untouched()
    const doc = (await cli('precheck', 'accounts_v2', '--json', '--examples', '1')).json<PrecheckDoc>()
    expect(doc.classes[0]?.examples).toEqual([['0000-broken']])
    const listed = await db.query<{ key: string[]; message: string }>(doc.classes[0]?.query ?? '')
    expect(listed.map((r) => [r.key, r.message])).toEqual(
      BAD_IDS.map((id) => [[id], `invalid input syntax for type uuid: "${id}"`]),
    )
    expect(await untouched()).toBe(before)
  })

  it('advance stays refused while the last precheck found rows, naming the class and count, from the CLI and from code alike', async () => {
    const before = await controlSnapshot(db.pool)
    const refused = await cli('advance', 'accounts_v2')
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim()).toBe(
      'cutover: accounts_v2: gate "dual_write" not met: the last precheck found 3 legacy row(s) the mapping cannot carry ' +
        '(forward 22P02 invalid input syntax for type uuid: "…": 3 row(s)); fix those rows (or the mapping), then run: cutover precheck accounts_v2',
    )
    await expect(advance(db.pool, { schema: 'cutover', migration: 'accounts_v2', actor: 'code' })).rejects.toThrow(
      GateRefused,
    )
    await expect(advance(db.pool, { schema: 'cutover', migration: 'accounts_v2', actor: 'code' })).rejects.toThrow(
      refused.stderr.trim().replace(/^cutover: /, ''),
    )
    expect(await controlSnapshot(db.pool)).toBe(before)
    expect(await phase()).toBe('off')
    expect(await precheckFindings()).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'precheck_failing',
        command: 'cutover precheck accounts_v2',
        message: expect.stringContaining(
          'found 3 legacy row(s) the mapping cannot carry (forward 22P02 invalid input syntax for type uuid: "…": 3 row(s)); entering dual_write is refused until they are fixed',
        ),
      }),
    ])
  })

  it('after the rows are fixed the precheck is clean and the advance passes', async () => {
    await db.query(`UPDATE accounts SET id = gen_random_uuid()::text WHERE id = ANY ($1)`, [BAD_IDS])
    expect((await cli('advance', 'accounts_v2')).code).toBe(1)
    // The doctor's fix is the command that clears its finding.
    const [finding] = await precheckFindings()
    const clean = await cli(...(finding?.command.split(' ').slice(1) ?? []), '--json')
    expect(clean.code).toBe(0)
    expect(clean.json<PrecheckDoc>()).toMatchObject({
      rows: 20_000,
      clean: true,
      failingRows: 0,
      classes: [],
      collisionsChecked: true,
    })
    expect((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM accounts_v2'))[0]?.n).toBe('0')
    expect(await precheckFindings()).toEqual([])
    const advanced = await cli('advance', 'accounts_v2')
    expect(advanced.stderr).toBe('')
    expect(advanced.code).toBe(0)
    expect(await phase()).toBe('dual_write')
  })
})
