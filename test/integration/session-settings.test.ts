/**
 * Issue 24: one set of session settings for every statement cutover runs. The application's pool runs in
 * America/New_York, the CLI in UTC; a timestamp → timestamptz mapping must give the same shadow row either way.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cutover } from '../../src/cutover/cutover.js'
import { setPhase, silentLogger } from '../support/orders-fixture.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
// The CLI in UTC whatever the machine says.
const cli = (...args: string[]) =>
  runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'], {
    PGTZ: 'UTC',
    PGDATESTYLE: 'ISO, MDY',
  })
let dir: string
let appPool: pg.Pool
let cutover: Cutover | undefined

const VISITS = {
  name: 'visits_v2',
  legacy: { table: 'public.visits', key: ['id'] },
  shadow: { table: 'public.visits_v2', key: ['id'] },
  forward: { made_at: 'made_at::timestamptz' },
  backward: { made_at: 'made_at::timestamp' },
}

async function writeConfig(definitions: unknown[]): Promise<string> {
  const file = join(dir, `cutover-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(file, JSON.stringify({ migrations: definitions }))
  return file
}

beforeAll(async () => {
  dir = await tempDir('cutover-session-')
  await db.query(`
    CREATE TABLE visits (id int PRIMARY KEY, made_at timestamp NOT NULL);
    CREATE TABLE visits_v2 (id int PRIMARY KEY, made_at timestamptz NOT NULL);
    INSERT INTO visits SELECT g, timestamp '2024-03-10 00:30:00' + g * interval '1 hour' FROM generate_series(1, 200) g;`)
  expect((await cli('init')).code).toBe(0)
  // The application's pool: every connection in New York time.
  appPool = new pg.Pool({ connectionString: db.url, max: 4, options: '-c TimeZone=America/New_York' })
  appPool.on('error', () => undefined)
})
afterAll(async () => {
  await cutover?.close()
  await appPool.end()
})

describe('session settings', { timeout: 240_000 }, () => {
  it('register records the settings of its session and names the session-dependent cast in the mapping', async () => {
    const run = await cli('register', '--config', await writeConfig([VISITS]))
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(
      'visits_v2: forward made_at (made_at::timestamptz): timestamptz(timestamp without time zone) depends on the session settings',
    )
    expect(run.stdout).toContain(
      'backward made_at (made_at::timestamp): "timestamp"(timestamp with time zone) depends on the session settings',
    )
    const [row] = await db.query<{ session: Record<string, string> }>(
      "SELECT definition -> 'session' AS session FROM cutover.migrations WHERE name = 'visits_v2'",
    )
    expect(row?.session).toMatchObject({ TimeZone: expect.stringMatching(/^(Etc\/)?UTC$/), DateStyle: 'ISO, MDY' })
    expect(Object.keys(row?.session ?? {}).sort()).toEqual([
      'DateStyle',
      'IntervalStyle',
      'TimeZone',
      'extra_float_digits',
      'lc_monetary',
    ])
  })

  it('a setting PostgreSQL does not accept is refused in one line, and nothing is written', async () => {
    const run = await cli(
      'register',
      '--config',
      await writeConfig([{ ...VISITS, session: { TimeZone: 'Mars/Olympus' } }]),
    )
    expect(run.code).toBe(2)
    expect(run.stderr.trim()).toMatch(
      /^cutover: migration "visits_v2": "session.TimeZone": invalid value for parameter "TimeZone": "Mars\/Olympus"; give a value PostgreSQL accepts for TimeZone/,
    )
    const [row] = await db.query<{ zone: string }>(
      "SELECT definition -> 'session' ->> 'TimeZone' AS zone FROM cutover.migrations WHERE name = 'visits_v2'",
    )
    expect(row?.zone).toMatch(/^(Etc\/)?UTC$/)
  })

  it('an application in New York writing through the DAL and a CLI in UTC backfilling agree: verify is clean', async () => {
    const precheck = await cli('precheck', 'visits_v2')
    expect(precheck.stderr + precheck.stdout).toContain('clean')
    expect(precheck.stdout).toContain(
      'note: forward made_at ((made_at)::timestamp with time zone): timestamptz(timestamp without time zone) depends on the session settings',
    )
    expect(precheck.code).toBe(0)
    expect((await cli('advance', 'visits_v2')).code).toBe(0)
    cutover = await Cutover.connect({
      pool: appPool,
      registry: new Registry(),
      logger: silentLogger,
      fallbackPollMs: 100,
    })
    await cutover.watcher.poll()
    const visits = await cutover.migration('visits_v2')
    for (let id = 201; id <= 260; id++) await visits.insert({ id, made_at: '2024-03-10 02:30:00' })
    await visits.update(1, { made_at: '2024-11-03 01:30:00' })
    // Transaction-local: the application's session keeps its own zone after the DAL's statements.
    const client = await appPool.connect()
    try {
      expect((await client.query<{ TimeZone: string }>('SHOW TimeZone')).rows[0]?.TimeZone).toBe('America/New_York')
    } finally {
      client.release()
    }
    expect((await cli('backfill', 'visits_v2')).code).toBe(0)
    const verify = await cli('verify', 'visits_v2')
    expect(verify.stdout).toMatch(/clean/)
    expect(verify.code).toBe(0)
    expect(await db.query('SELECT made_at::text FROM visits_v2 WHERE id = 201', [])).toEqual([
      { made_at: expect.stringMatching(/^2024-03-10 0[27]:30:00/) },
    ])
    const [{ zone } = { zone: '' }] = await db.query<{ zone: string }>(
      "SELECT to_char(made_at AT TIME ZONE 'UTC', 'HH24:MI') AS zone FROM visits_v2 WHERE id = 201",
    )
    expect(zone).toBe('02:30')
  })
  it('a read served from the shadow in New York gives back what legacy holds', async () => {
    const visits = await (cutover as Cutover).migration('visits_v2')
    const fromLegacy = await visits.get(201)
    await setPhase(db.pool, 'shadow_read', 0, 'visits_v2')
    await setPhase(db.pool, 'ramp', 100, 'visits_v2')
    await cutover?.watcher.poll()
    expect(visits.sideFor('201')).toBe('shadow')
    expect(await visits.get(201)).toEqual(fromLegacy)
    expect(await visits.select((from) => from.selectAll().where('id', '=', 201))).toEqual([fromLegacy])
    expect(await visits.get(1)).toEqual({ id: 1, made_at: expect.any(Date) })
    await cutover?.flush()
    expect(await db.query("SELECT key, detail FROM cutover.divergences WHERE migration = 'visits_v2'")).toEqual([])
  })
})
