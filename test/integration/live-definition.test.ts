/**
 * Issue 14: a definition registered while applications run reaches them. A
 * process connected before the change loads it, acknowledges it and writes with
 * the new mapping after it; a change it cannot follow is refused there with a
 * logged reason, named by register and by doctor; a mapping change while
 * writers dual-write is refused without force.
 */
import { writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import pino from 'pino'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { runPrecheck } from '../../src/jobs/entry/precheck.js'
import { registerMigrations } from '../../src/actions/register.js'
import { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { runRepair } from '../../src/jobs/entry/repair.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { runDoctor } from '../../src/store/doctor/run-doctor.js'
import { DEFAULT_THRESHOLDS } from '../../src/store/doctor/finding.js'
import { runCli } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { ORDERS_CONFIG, order, ordersDefinition, setupOrders, silentLogger } from '../support/orders-fixture.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const op = { schema: 'cutover', actor: 'test', ackTimeoutMs: 30_000 }
const logLines: string[] = []
let appPool: pg.Pool
let cutover: Cutover
let dal: MigrationDal
let dir: string

/** orders_v2 with `status` upper-cased on its way to the shadow (and back). */
const UPPER = {
  forward: { ...ORDERS_CONFIG.forward, status: 'upper(status)' },
  backward: { ...ORDERS_CONFIG.backward, status: 'lower(status)' },
}

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; !(await condition());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function shadowStatus(id: number): Promise<string | undefined> {
  return (await db.query<{ status: string }>('SELECT status FROM orders_v2 WHERE id = $1', [id]))[0]?.status
}

beforeAll(async () => {
  await setupOrders(db)
  await db.query('CREATE TABLE orders_v3 (LIKE orders_v2 INCLUDING ALL)')
  dir = await tempDir('cutover-live-definition-')
  // The application: connected, with its DAL, before any change is registered.
  appPool = new pg.Pool({ connectionString: db.url, max: 6 })
  appPool.on('error', () => undefined)
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logLines.push(line)
      },
    },
  )
  cutover = await Cutover.connect({
    pool: appPool,
    registry: new Registry(),
    logger,
    random: () => 0,
    fallbackPollMs: 100,
  })
  dal = await cutover.migration('orders_v2')
})

afterAll(async () => {
  await cutover.close()
  await appPool.end()
})

describe('live definition changes', { timeout: 180_000 }, () => {
  it('a change a running process cannot follow (another shadow table) is refused there with a logged reason, named by register and by doctor', async () => {
    const [result] = await registerMigrations(
      db.pool,
      [ordersDefinition({ shadow: { table: 'public.orders_v3', key: ['id'] } })],
      { ...op, ackTimeoutMs: 2000 },
    )
    expect(result).toMatchObject({ outcome: 'changed', definitionVersion: 2 })
    expect(result?.acknowledgements).toMatchObject({
      acknowledged: 0,
      listeners: 1,
      unacknowledged: [{ host: hostname(), pid: process.pid }],
    })
    await until(() => logLines.some((l) => l.includes('refused definition version 2')), 'the refusal in the log')
    const refusal = JSON.parse(logLines.find((l) => l.includes('refused definition version 2')) as string) as Record<
      string,
      unknown
    >
    expect(refusal).toMatchObject({
      migration: 'orders_v2',
      keptDefinitionVersion: 1,
      err: {
        message: expect.stringContaining(
          'changes the shadow table, which a running process does not follow; restart this process',
        ),
      },
    })
    const report = await runDoctor(db.pool, {
      schema: 'cutover',
      migration: 'orders_v2',
      thresholds: { ...DEFAULT_THRESHOLDS, staleAfterSeconds: 0 },
    })
    expect(report.findings.filter((f) => f.code === 'definition_behind')).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: expect.stringContaining(
          `(pid ${process.pid} on ${hostname()}) is alive but uses definition version 1, not 2`,
        ),
      }),
    ])
  })

  it('in off, a changed mapping needs no force: the process connected before it loads it, acknowledges, and writes with it; verify is clean', async () => {
    const [result] = await registerMigrations(db.pool, [ordersDefinition(UPPER)], op)
    expect(result).toMatchObject({ outcome: 'changed', definitionVersion: 3 })
    expect(result?.acknowledgements).toMatchObject({ acknowledged: 1, listeners: 1, unacknowledged: [] })
    const report = await runDoctor(db.pool, {
      schema: 'cutover',
      migration: 'orders_v2',
      thresholds: { ...DEFAULT_THRESHOLDS, staleAfterSeconds: 0 },
    })
    expect(report.findings.filter((f) => f.code === 'definition_behind')).toEqual([])
    expect(
      (await runPrecheck(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'test', logger: silentLogger }))
        .clean,
    ).toBe(true)
    await advance(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'test', to: 'dual_write' })
    await until(() => dal.state.phase === 'dual_write', 'dual_write applied')
    await dal.insert(order(1, { status: 'new' }))
    expect(await shadowStatus(1)).toBe('NEW')
    expect(
      (await runVerify(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'test', logger: silentLogger }))
        .clean,
    ).toBe(true)
  })

  it('in dual_write, a changed mapping is shown as a diff and refused without --force, writing nothing; with --force (recorded) the process follows it', async () => {
    const config = join(dir, 'cutover.json')
    await writeFile(config, JSON.stringify({ migrations: [{ ...ORDERS_CONFIG }] }))
    const before = await controlSnapshot(db.pool)
    const refused = await runCli(['register', '--config', config, '--database-url', db.url, '--actor', 'oncall'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe(
      'orders_v2: the mapping would change in dual_write:\n' +
        '  forward.status: "upper(status)" -> "status" (same name)\n  backward.status: "lower(status)" -> "status" (same name)\n',
    )
    expect(refused.stderr).toBe(
      'cutover: orders_v2: gate "mapping_change" not met: the new definition changes forward.status: "upper(status)" -> "status" (same name); ' +
        'backward.status: "lower(status)" -> "status" (same name) while the migration is in dual_write, where running processes write both tables and each writes with the old mapping until it reloads; ' +
        `run: cutover register --config ${config} --force, then: cutover verify orders_v2 (and cutover repair orders_v2 for what it finds)\n`,
    )
    expect(await controlSnapshot(db.pool)).toBe(before)

    const forced = await runCli([
      'register',
      '--config',
      config,
      '--force',
      '--database-url',
      db.url,
      '--actor',
      'oncall',
    ])
    expect({ code: forced.code, stderr: forced.stderr }).toEqual({ code: 0, stderr: '' })
    expect(forced.stdout).toMatch(/^re-registered orders_v2: definition version 4, /)
    expect(forced.stdout).toMatch(/\ndefinition version 4 loaded by [01] of 1 running processes within 1 s\n/)
    const [event] = await db.query(
      "SELECT forced, actor, details -> 'mappingChanges' AS changes FROM cutover.events WHERE kind = 're-registered' ORDER BY id DESC LIMIT 1",
    )
    expect(event).toEqual({
      forced: true,
      actor: 'oncall',
      changes: [
        { field: 'forward.status', before: 'upper(status)', after: null },
        { field: 'backward.status', before: 'lower(status)', after: null },
      ],
    })
    // The CLI waits a second; on a busy machine the process may take longer: never silently stale, so wait for its acknowledgement.
    await until(
      async () =>
        (
          await db.query(
            "SELECT 1 FROM cutover.instances i, cutover.state s WHERE (i.applied ->> 'orders_v2')::bigint >= s.version",
          )
        ).length === 1,
      'the acknowledgement',
    )
    await dal.insert(order(2, { status: 'new' }))
    expect(await shadowStatus(2)).toBe('new')
    // Row 1 was written with the old mapping before the change, as register warned; row 2 after it, with the new one.
    const verify = await runVerify(db.pool, {
      schema: 'cutover',
      migration: 'orders_v2',
      actor: 'test',
      logger: silentLogger,
    })
    expect(verify.differences.map((d) => d.key)).toEqual([{ id: '1' }])
    await runRepair(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'test', logger: silentLogger })
    expect(
      (await runVerify(db.pool, { schema: 'cutover', migration: 'orders_v2', actor: 'test', logger: silentLogger }))
        .clean,
    ).toBe(true)
  })

  it('an identical definition registered again changes nothing and notifies nobody', async () => {
    const before = await controlSnapshot(db.pool)
    const [result] = await registerMigrations(db.pool, [ordersDefinition()], op)
    expect(result).toMatchObject({ outcome: 'unchanged', definitionVersion: 4 })
    expect(result?.acknowledgements).toBeUndefined()
    expect(await controlSnapshot(db.pool)).toBe(before)
  })
})
