/**
 * The demo: a whole cutover on a throw-away database, told as a story. It runs
 * the real CLI for every operator step, with a simulated application writing
 * and reading through the DAL the whole time.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import pino from 'pino'
import client from 'prom-client'
import { Cutover } from '../cutover/cutover.js'
import { serveMetrics, type MetricsServer } from '../metrics/metrics-server.js'
import { loadEmbeddedPostgres, startEmbeddedServer, type EmbeddedServer } from './embedded-server.js'
import { startDemoApp, type AppStats, type DemoApp } from './demo-app.js'
import { DEMO_CONFIG, DEMO_DDL, DEMO_MIGRATION, seedSql } from './demo-tables.js'
import { runGroupStory } from './group-story.js'

export interface DemoOptions {
  readonly quick: boolean
  readonly databaseUrl?: string
  readonly metricsPort: number
  /** Keep the application running and /metrics served this long after the story (for a Prometheus to scrape). */
  readonly lingerSeconds: number
  /** Runs one CLI command line in this process; resolves to its exit code. */
  readonly cli: (argv: readonly string[]) => Promise<number>
  /** Registers cleanup for Ctrl-C; returns the unregister function. */
  readonly onInterrupt: (cleanup: () => Promise<void>) => () => void
}

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`)
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

class DemoFailed extends Error {}

export async function runDemo(options: DemoOptions): Promise<void> {
  const rows = options.quick ? 3_000 : 50_000
  const pauseMs = options.quick ? 700 : 2_000
  const started = Date.now()
  // Refused before the story starts when the server it would start is not installed (a package install).
  if (!options.databaseUrl) await loadEmbeddedPostgres()
  const resources: {
    server?: EmbeddedServer
    adminUrl?: string
    database?: string
    pool?: pg.Pool
    cutover?: Cutover
    app?: DemoApp
    metrics?: MetricsServer
    dir?: string
  } = {}
  let cleaning: Promise<void> | undefined
  const cleanup = (): Promise<void> => (cleaning ??= cleanUp())
  const cleanUp = async (): Promise<void> => {
    if (resources.dir) await rm(resources.dir, { recursive: true, force: true })
    // Each step is bounded: after Ctrl-C the server may already be gone.
    const bounded = (work: Promise<unknown> | undefined) => Promise.race([work?.catch(() => undefined), sleep(5_000)])
    await bounded(resources.app?.stop())
    await bounded(resources.cutover?.close())
    await bounded(resources.metrics?.close())
    await bounded(resources.pool?.end())
    if (resources.adminUrl && resources.database && !resources.server) {
      const admin = new pg.Client({ connectionString: resources.adminUrl, connectionTimeoutMillis: 3000 })
      await bounded(
        admin.connect().then(() => admin.query(`DROP DATABASE IF EXISTS "${resources.database}" WITH (FORCE)`)),
      )
      await bounded(admin.end())
    }
    await bounded(resources.server?.stop())
    resources.app = undefined
    resources.cutover = undefined
    resources.metrics = undefined
    resources.pool = undefined
    resources.server = undefined
    resources.database = undefined
    resources.dir = undefined
  }
  const unregister = options.onInterrupt(cleanup)
  // Made in the same turn as the hook is registered: a Ctrl-C at any later moment finds it and removes it
  // (made later, with an await, a Ctrl-C during the await left it behind).
  const dir = mkdtempSync(join(tmpdir(), 'cutover-demo-'))
  resources.dir = dir
  try {
    say(
      `cutover demo${options.quick ? ' (quick)' : ''}: moving a live table to a new shape, with an application running the whole time.`,
    )
    say()
    say('== 1. A database')
    if (options.databaseUrl) {
      resources.adminUrl = options.databaseUrl
      say(
        '   using the server given by --database-url; the demo works in a database of its own and drops it at the end',
      )
    } else {
      const t0 = Date.now()
      resources.server = await startEmbeddedServer()
      resources.adminUrl = resources.server.url
      say(
        `   started an embedded PostgreSQL in ${resources.server.dataDir} (${Date.now() - t0} ms); it is removed at the end`,
      )
    }
    resources.database = `cutover_demo_${randomBytes(4).toString('hex')}`
    const admin = new pg.Client({ connectionString: resources.adminUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE "${resources.database}"`).finally(() => admin.end())
    const url = new URL(resources.adminUrl)
    url.pathname = `/${resources.database}`
    const db = url.toString()
    resources.pool = new pg.Pool({ connectionString: db, max: 12 })
    resources.pool.on('error', () => undefined)
    const pool = resources.pool

    say()
    say('== 2. The legacy table and its new shape')
    await pool.query(DEMO_DDL)
    await pool.query(seedSql(rows).text, seedSql(rows).values)
    await pool.query('ANALYZE demo_users')
    say(
      `   demo_users (id varchar(36), full_name, email, balance_cents, prefs json): ${rows.toLocaleString('en')} rows`,
    )
    say('   demo_users_v2 (id uuid, first_name, last_name, email_address, balance numeric(12,2), prefs jsonb)')
    const config = join(dir, 'cutover.json')
    await writeFile(config, JSON.stringify(DEMO_CONFIG, null, 2))
    say(`   the mapping is in ${config}: forward (legacy -> new) and backward (new -> legacy) SQL expressions`)

    const run = async (...args: string[]): Promise<number> => {
      say()
      say(`$ cutover ${args.join(' ')}`)
      const code = await options.cli([...args, '--database-url', db, '--actor', 'demo-operator'])
      if (code !== 0) say(`   (exit code ${code})`)
      return code
    }
    const must = async (...args: string[]): Promise<void> => {
      const code = await run(...args)
      if (code !== 0) throw new DemoFailed(`"cutover ${args.join(' ')}" exited ${code}`)
    }
    // On a busy machine the guardrail may roll the ramp back by itself (a shadow read p99 over 3x legacy's, judged on
    // a 5 s window): that is the product working, not the demo failing. The demo says so, goes back to shadow_read
    // and runs the step again (three times at most).
    const guardedRollbacks = async (): Promise<number> =>
      Number(
        (
          await pool.query<{ n: string }>(
            "SELECT count(*) AS n FROM cutover.events WHERE migration = $1 AND kind = 'guardrail_rollback'",
            [DEMO_MIGRATION],
          )
        ).rows[0]?.n ?? 0,
      )
    const mustUnlessGuardrail = async (...args: string[]): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        const before = await guardedRollbacks()
        if (resources.cutover?.state(DEMO_MIGRATION)?.phase === 'dual_write' && before > 0 && attempt <= 3) {
          const {
            rows: [event],
          } = await pool.query<{ reason: string }>(
            "SELECT reason FROM cutover.events WHERE migration = $1 AND kind = 'guardrail_rollback' ORDER BY id DESC LIMIT 1",
            [DEMO_MIGRATION],
          )
          say(`   the guardrail rolled back by itself: ${event?.reason ?? '(no event?)'}`)
          say(
            "   (this machine is busy, so the shadow's reads were slow next to legacy's); back to shadow_read, and on:",
          )
          await must(
            'advance',
            DEMO_MIGRATION,
            '--to',
            'shadow_read',
            '--reason',
            'resume after a guardrail rollback on a busy machine',
          )
        }
        const code = await run(...args)
        if (code === 0) return
        if (
          attempt >= 3 ||
          (await guardedRollbacks()) === 0 ||
          resources.cutover?.state(DEMO_MIGRATION)?.phase !== 'dual_write'
        ) {
          throw new DemoFailed(`"cutover ${args.join(' ')}" exited ${code}`)
        }
      }
    }

    say()
    say('== 3. Register the migration')
    await must('init')
    await must('register', '--config', config, '--reason', 'demo: move demo_users to the new shape')

    say()
    say('== 4. The application starts, using the DAL instead of the table')
    // The global registry: the CLI's jobs, run in this process, count there too.
    const registry = client.register
    resources.metrics = await serveMetrics({ port: options.metricsPort, registry })
    resources.cutover = await Cutover.connect({ pool, registry, logger: pino({ level: 'silent' }) })
    const dal = await resources.cutover.migration(DEMO_MIGRATION)
    const { rows: keyRows } = await pool.query<{ id: string }>('SELECT id FROM demo_users ORDER BY id')
    const keys = keyRows.map((r) => r.id)
    const untouched = keys.slice(-Math.max(5, Math.floor(keys.length / 20)))
    resources.app = startDemoApp(dal, registry, keys.slice(0, keys.length - untouched.length), {
      workers: 4,
      pauseMs: options.quick ? 2 : 5,
    })
    say(`   4 workers read and write through the DAL; metrics at ${resources.metrics.url}`)
    let last = await resources.app.stats()
    const report = async (label: string): Promise<AppStats> => {
      await sleep(pauseMs)
      const now = await (resources.app as DemoApp).stats()
      const legacy = now.legacyReads - last.legacyReads
      const shadow = now.shadowReads - last.shadowReads
      const share = legacy + shadow === 0 ? 0 : (100 * shadow) / (legacy + shadow)
      say(
        `   app ${label}: ${legacy + shadow} reads, ${share.toFixed(1)}% served by the shadow; ${now.comparisons - last.comparisons} compared, ${now.divergences - last.divergences} divergences; ${now.writes - last.writes} writes`,
      )
      last = now
      return now
    }
    await report('in phase off')

    say()
    say('== 5. Dual writes: every write now goes to both tables in one statement')
    await must('precheck', DEMO_MIGRATION, '--reason', 'every legacy row must map before dual writes')
    await must('advance', DEMO_MIGRATION, '--reason', 'start dual writes')
    await report('in dual_write')

    say()
    say('== 6. Backfill the rows written before, then verify both tables in the database')
    await must('backfill', DEMO_MIGRATION, '--reason', 'copy existing rows')
    await must('verify', DEMO_MIGRATION)

    say()
    say('== 7. Shadow reads: every read also reads the new table and compares')
    await must('advance', DEMO_MIGRATION, '--reason', 'compare reads')
    await report('in shadow_read')
    say(
      '   is the comparison itself trustworthy? calibrate compares the legacy table with itself through the same path:',
    )
    await must('calibrate', DEMO_MIGRATION, '--sample', options.quick ? '500' : '2000')

    say()
    say('== 8. Ramp reads to the new table, sticky per user')
    for (const percent of [1, 5, 25]) {
      await mustUnlessGuardrail('ramp', DEMO_MIGRATION, String(percent), '--reason', `ramp to ${percent}%`)
      await report(`at ${percent}%`)
    }
    say('   ramping down is exact: only the keys above the new percentage go back to legacy')
    await resources.cutover.watcher.heartbeat()
    await mustUnlessGuardrail('ramp', DEMO_MIGRATION, '10', '--reason', 'ramp down to 10% and back')
    await mustUnlessGuardrail('ramp', DEMO_MIGRATION, '25', '--reason', 'back to 25%')

    say()
    say("== 9. Someone changes a row of the new table behind the DAL's back")
    const victim = untouched[0] as string
    await pool.query("UPDATE demo_users_v2 SET email_address = 'mallory@evil.example' WHERE id = $1::uuid", [victim])
    say(`   UPDATE demo_users_v2 SET email_address = 'mallory@evil.example' WHERE id = '${victim}'`)
    let caught = false
    for (let i = 0; i < 200 && !caught; i++) {
      const row = await dal.get(victim)
      await resources.cutover.flush()
      const { rows: found } = await pool.query(
        "SELECT 1 FROM cutover.divergences WHERE migration = $1 AND key ->> 'id' = $2 AND source = 'read'",
        [DEMO_MIGRATION, victim],
      )
      if (found.length > 0) {
        caught = true
        say(
          `   the read comparison caught it: divergence recorded for ${victim}; the application was served the legacy row (${String(row?.email)})`,
        )
      }
    }
    if (!caught) throw new DemoFailed('the read comparison did not catch the corrupted row')
    await run('divergences', DEMO_MIGRATION)
    const verifyCode = await run('verify', DEMO_MIGRATION)
    if (verifyCode !== 1)
      throw new DemoFailed(`verify should have found the corrupted row (exit 1), exited ${verifyCode}`)
    say('   verify found it too (exit code 1). The doctor, asked what is wrong, names it and the fix:')
    await run('doctor', DEMO_MIGRATION)
    say('   repair copies the row again from the authoritative side:')
    await must('repair', DEMO_MIGRATION, '--reason', 'fix the tampered row')
    await must('verify', DEMO_MIGRATION)
    say('   repaired: verify is clean again')

    say()
    say('== 10. Ramp to everyone, then let the new table take over')
    last = await resources.app.stats()
    for (const percent of [50, 100]) {
      await mustUnlessGuardrail('ramp', DEMO_MIGRATION, String(percent), '--reason', `ramp to ${percent}%`)
      await report(`at ${percent}%`)
    }
    await sleep(1200)
    // After a rollback here the ramp must be made again before shadow_primary: one more pass of the step.
    for (let attempt = 1; resources.cutover.state(DEMO_MIGRATION)?.phase !== 'ramp' && attempt <= 3; attempt++) {
      await mustUnlessGuardrail('ramp', DEMO_MIGRATION, '100', '--reason', 'ramp to 100% again')
    }
    await must('advance', DEMO_MIGRATION, '--reason', 'the new table is authoritative')
    await report('in shadow_primary')

    say()
    say('== 11. The new table gets slow (the demo turns its latency knob to 25 ms per read)')
    // The guardrail judges the shadow against legacy's own p99: on a machine busy enough to slow legacy
    // down too, 25 ms may stay under the bound, so the knob goes up until it is crossed (or 60 s pass).
    const deadline = Date.now() + 60_000
    for (let latencyMs = 25; resources.cutover.state(DEMO_MIGRATION)?.phase !== 'dual_write'; latencyMs *= 2) {
      if (latencyMs > 25)
        say(`   still under the bound on this machine (legacy is slow too): the knob goes to ${latencyMs} ms`)
      await pool.query('UPDATE demo_latency SET seconds = $1', [latencyMs / 1000])
      const step = Date.now() + 10_000
      while (resources.cutover.state(DEMO_MIGRATION)?.phase !== 'dual_write' && Date.now() < Math.min(step, deadline))
        await sleep(100)
      if (Date.now() >= deadline && resources.cutover.state(DEMO_MIGRATION)?.phase !== 'dual_write')
        throw new DemoFailed('the guardrail did not roll back within 60 s')
    }
    await pool.query('UPDATE demo_latency SET seconds = 0')
    const {
      rows: [event],
    } = await pool.query<{ reason: string }>(
      "SELECT reason FROM cutover.events WHERE migration = $1 AND kind = 'guardrail_rollback' ORDER BY id DESC LIMIT 1",
      [DEMO_MIGRATION],
    )
    say(`   the guardrail rolled back by itself: ${event?.reason ?? '(no event?)'}`)
    say(
      '   every instance follows at once; reads are on legacy again, and nothing was lost: both tables were written all along',
    )
    await report('after the rollback')

    say()
    say('== 12. Related tables move together: a group, one ramp, one rollback')
    await runGroupStory({ pool, dir, say, run, must })

    say()
    say('== 13. What an on-call engineer sees')
    await must('status', DEMO_MIGRATION, '--events', '30')
    say('   and one command that lists anything wrong, each with the command that fixes it:')
    await run('doctor', DEMO_MIGRATION)

    if (options.lingerSeconds > 0) {
      say()
      say(`   the application keeps running for ${options.lingerSeconds} s; metrics at ${resources.metrics.url}`)
      say('   to try the runbooks (runbooks/README.md) on this throw-away database, in another terminal:')
      say(`   export DATABASE_URL=${db}`)
      say(`   npx cutover status ${DEMO_MIGRATION}`)
      await sleep(options.lingerSeconds * 1000)
    }
    say()
    say(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s; cleaning up`)
  } finally {
    unregister()
    await cleanup()
  }
}

export { DemoFailed }
