import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseMigration } from '../../src/core/parse-config.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { registerMigrations } from '../../src/actions/register.js'
import { readStatus } from '../../src/store/state/status-sql.js'
import { runCli } from '../support/cli.js'
import { throttleRecorder } from '../support/throttle-recorder.js'
import { initControl } from '../support/control.js'
import { standbyUnavailable, startStandbyPair, type StandbyPair } from '../support/standby-pair.js'
import { until } from '../support/until.js'

const skip = standbyUnavailable()
const schema = 'cutover'
const ROWS = 30_000

describe.skipIf(skip !== undefined)('backfill throttled on replica lag (a real streaming standby)', () => {
  let pair: StandbyPair
  let pool: pg.Pool
  let standby: pg.Client

  beforeAll(async () => {
    pair = await startStandbyPair()
    pool = new pg.Pool({ connectionString: pair.primaryUrl, max: 6 })
    pool.on('error', () => undefined)
    standby = new pg.Client({ connectionString: pair.standbyUrl })
    await standby.connect()
    await initControl(pool)
    await pool.query(`CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);
      CREATE TABLE items_v2 (id bigint PRIMARY KEY, label text NOT NULL);
      INSERT INTO items SELECT g, 'name ' || g FROM generate_series(1, ${ROWS}) AS g;`)
    await registerMigrations(
      pool,
      [
        parseMigration({
          name: 'items',
          legacy: { table: 'public.items', key: ['id'] },
          shadow: { table: 'public.items_v2', key: ['id'] },
          forward: { label: 'upper(name)' },
          backward: { name: 'lower(label)' },
        }),
      ],
      { schema, actor: 'test' },
    )
  }, 120_000)

  afterAll(async () => {
    await standby?.end().catch(() => undefined)
    await pool?.end().catch(() => undefined)
    await pair?.stop()
  })

  it('holds its chunks with the reason once the paused standby lags past the bound, and goes on when replay resumes', async () => {
    const registry = new Registry()
    const {
      events,
      warnings,
      logger,
      onProgress,
      onThrottle,
      gauge: throttled,
      watch,
      expectHeldThenResumed,
    } = throttleRecorder(registry)
    // Paced (about 15 s in all), so the lag has time to cross the bound while rows are still left to copy.
    const run = runBackfill(pool, {
      schema,
      migration: 'items',
      actor: 'test',
      chunkRows: 200,
      targetChunkMs: 0,
      maxRowsPerSecond: 2000,
      maxReplicaLagSeconds: 1,
      throttleCheckMs: 100,
      registry,
      logger,
      onProgress,
      onThrottle,
    })
    const orFailure = watch(run)
    await until(() => orFailure(events.filter((e) => e.kind === 'chunk').length >= 2), 30_000, 'two chunks copied')
    await standby.query('SELECT pg_wal_replay_pause()')
    await until(() => orFailure(events.some((e) => e.kind === 'throttled')), 60_000, 'the throttle')

    const reason = events.find((e) => e.kind === 'throttled')?.reason ?? ''
    expect(reason).toMatch(/^replica lag \d+\.\d s > 1 s on standby1$/)
    expect(Number(/lag (\S+) s/.exec(reason)?.[1])).toBeGreaterThan(1)
    expect(warnings).toContain(`backfill of items throttled: ${reason}`)
    expect(await throttled()).toBe(1)
    const [status] = await readStatus(pool, schema, 'items')
    expect(status?.backfill.throttled).toMatch(/^replica lag \d+\.\d s > 1 s on standby1$/)
    expect(status?.backfill.rowsPerSecond).toBeGreaterThan(0)
    expect(status?.backfill.etaSeconds).toBeGreaterThan(0)
    const shown = await runCli(['status', 'items', '--database-url', pair.primaryUrl])
    expect(shown.stdout).toMatch(
      /backfill: +running, \d+ rows \(\d+%\), \d+ rows\/s, ETA \d+ s; throttled: replica lag \d+\.\d s > 1 s on standby1\n/,
    )
    // Held: the rows done stay put while the standby stays paused.
    const held = (
      await pool.query<{ rows_done: string }>("SELECT rows_done FROM cutover.jobs WHERE migration = 'items'")
    ).rows[0]?.rows_done
    expect(Number(held)).toBeLessThan(ROWS)

    await standby.query('SELECT pg_wal_replay_resume()')
    const result = await run
    expect(result).toMatchObject({ rows: ROWS, copied: ROWS })
    await expectHeldThenResumed()
    const [after] = await readStatus(pool, schema, 'items')
    expect(after?.backfill.throttled).toBeNull()
    expect(
      (
        await pool.query(
          'SELECT count(*)::int AS n FROM items_v2 s JOIN items l USING (id) WHERE s.label = upper(l.name)',
        )
      ).rows,
    ).toEqual([{ n: ROWS }])
  }, 180_000)
})
