import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runRepair } from '../../src/jobs/entry/repair.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { ramp } from '../../src/actions/ramp.js'
import { rollback } from '../../src/actions/rollback.js'
import { StateLocked } from '../../src/core/errors.js'
import { readState } from '../../src/store/state/state-row.js'
import type { StateLockWait } from '../../src/store/state/with-state-lock.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { longerThan, sampleLocks } from '../support/lock-sampler.js'
import { connectCutover, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const ROWS = 3000
/** The application name of the tool's own connections, to tell them apart in pg_stat_activity. */
const TOOL = 'cutover-under-test'
/** A lock wait of the tool's, or behind it, lasting this long is a queue, not a statement at work. */
const QUEUED_MS = 300
const tool = new pg.Pool({ connectionString: db.url, application_name: TOOL, max: 6 })
tool.on('error', () => undefined)
let cutover: Cutover
let dal: MigrationDal
let close: () => Promise<void>
const base = { schema: 'cutover', migration: 'orders_v2', actor: 'test' }

interface Held {
  readonly pid: number
  end(): Promise<void>
}

/** An application transaction left open (a slow request, a psql session) after `sql` took its locks. */
async function openTransaction(sql: string, application = 'app-long-transaction'): Promise<Held> {
  const client = new pg.Client({ connectionString: db.url, application_name: application })
  client.on('error', () => undefined)
  await client.connect()
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  await client.query('BEGIN')
  await client.query(sql)
  let ended: Promise<void> | undefined
  return { pid: rows[0]?.pid ?? 0, end: () => (ended ??= client.query('COMMIT').then(() => client.end())) }
}

/** DAL updates to `keys`, round and round, for `ms`: how many, and the slowest. */
async function applicationWrites(keys: readonly number[], ms: number): Promise<{ writes: number; slowestMs: number }> {
  const until = Date.now() + ms
  let writes = 0
  let slowestMs = 0
  while (Date.now() < until) {
    const started = Date.now()
    await dal.update(keys[writes % keys.length] as number, { status: `w${writes}` })
    slowestMs = Math.max(slowestMs, Date.now() - started)
    writes++
  }
  return { writes, slowestMs }
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function capture(): {
  lines: string[]
  logger: { info(): void; debug(): void; warn(fields: Record<string, unknown>, message: string): void }
} {
  const lines: string[] = []
  return {
    lines,
    logger: {
      info: () => undefined,
      debug: () => undefined,
      warn: (_fields, message) => {
        lines.push(message)
      },
    },
  }
}

beforeAll(async () => {
  await setupOrders(db)
  const connected = await connectCutover(db, { random: () => 1 })
  cutover = connected.cutover
  close = async () => {
    await cutover.close()
    await connected.pool.end()
    await tool.end()
  }
  dal = await cutover.migration('orders_v2')
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents, status) SELECT g, gen_random_uuid()::text, g, 'new' FROM generate_series(1, ${ROWS}) g`,
  )
})
afterAll(async () => close())
beforeEach(async () => {
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
  await db.query('TRUNCATE orders_v2; DELETE FROM cutover.jobs; DELETE FROM cutover.divergences')
})

describe('a long transaction holding a legacy row', () => {
  it("backfill backs off and retries, saying what it waits on, never queueing on the lock nor stalling the application's writes to other rows", async () => {
    // Chunks of 500 keys: the locked key 1550 is in the middle of the fourth, (1500 .. 2000].
    const app = await openTransaction('SELECT * FROM orders WHERE id = 1550 FOR UPDATE')
    const registry = new Registry()
    const { lines, logger } = capture()
    // A lock timeout far above the sampler's threshold: had the backfill waited on the row, it would show.
    const backfill = runBackfill(tool, {
      ...base,
      chunkRows: 500,
      targetChunkMs: 0,
      lockTimeoutMs: 5000,
      registry,
      logger,
    })
    let queuedWrite: Promise<unknown> | undefined
    try {
      await until(() => lines.length > 0)
      const sampler = sampleLocks(db.url, TOOL)
      // A write to the locked row itself queues behind the open transaction only, never behind the backfill.
      queuedWrite = db.query("UPDATE orders SET status = 'queued' WHERE id = 1550")
      const writes = await applicationWrites([1501, 1549, 1551, 1999, 10, 2500], 1500)
      const samples = await sampler.stop()
      expect(samples.samples).toBeGreaterThan(10)
      expect(longerThan(samples.toolWaits, QUEUED_MS)).toEqual([])
      expect(longerThan(samples.blockedByTool, QUEUED_MS)).toEqual([])
      expect(writes.writes).toBeGreaterThan(10)
      expect(writes.slowestMs).toBeLessThan(2000)
    } finally {
      await app.end()
    }
    await queuedWrite
    expect(await backfill).toMatchObject({ rows: ROWS })
    expect(lines[0]).toMatch(
      /^backfill chunk 4 of orders_v2 \(keys \(1500 \.\. 2000\]\) waits on a row lock on public\.orders held by another transaction .*: could not obtain lock on row in relation "orders"; retry \d+ of 30 in \d+ ms$/,
    )
    const retries = (await registry.getSingleMetric('cutover_lock_retries_total')?.get())?.values.find(
      (v) => v.labels.task === 'backfill',
    )?.value
    expect(retries).toBeGreaterThanOrEqual(3)
    expect(await runVerify(db.pool, base)).toMatchObject({ clean: true, rowsCompared: ROWS })
  })

  it('the backfill CLI prints the wait on stderr while it backs off, and finishes once the transaction ends', async () => {
    const app = await openTransaction("UPDATE orders SET status = 'held' WHERE id = 2100")
    const run = runCli(['backfill', 'orders_v2', '--database-url', db.url, '--chunk-rows', '500', '--json'], {
      CUTOVER_LOG_LEVEL: '',
    })
    try {
      await until(async () => (await db.query("SELECT 1 FROM cutover.jobs WHERE kind = 'backfill'")).length > 0)
      await new Promise((resolve) => setTimeout(resolve, 2500))
    } finally {
      await app.end()
    }
    const result = await run
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(
      /"msg":"backfill chunk \d+ of orders_v2 \(keys [^"]*\) waits on a row lock on public\.orders held by another transaction[^"]*could not obtain lock on row in relation \\"orders\\"; retry \d+ of 30 in \d+ ms"/,
    )
    expect(result.json()).toMatchObject({ rows: ROWS })
  })

  it('verify reads past it without waiting and finds the tables equal', async () => {
    await runBackfill(tool, { ...base, chunkRows: 1000 })
    const app = await openTransaction("UPDATE orders SET status = 'uncommitted' WHERE id = 1550")
    try {
      const sampler = sampleLocks(db.url, TOOL)
      const verify = await runVerify(tool, { ...base, chunkRows: 500, targetChunkMs: 0 })
      const samples = await sampler.stop()
      expect(verify).toMatchObject({ clean: true, rowsCompared: ROWS })
      expect(longerThan(samples.toolWaits, QUEUED_MS)).toEqual([])
    } finally {
      await app.end()
    }
  })

  it('repair backs off from the locked source row, says which key it waits on, and repairs it once the transaction ends', async () => {
    await runBackfill(tool, { ...base, chunkRows: 1000 })
    await db.query("UPDATE orders_v2 SET status = 'corrupted' WHERE id IN (1549, 1550)")
    expect(await runVerify(tool, base)).toMatchObject({ counts: { mismatch: 2 } })
    const app = await openTransaction('SELECT * FROM orders WHERE id = 1550 FOR UPDATE')
    const { lines, logger } = capture()
    const repair = runRepair(tool, { ...base, logger, lockTimeoutMs: 5000 })
    try {
      await until(() => lines.length > 0)
      const sampler = sampleLocks(db.url, TOOL)
      const writes = await applicationWrites([1549, 1551, 10], 1000)
      const samples = await sampler.stop()
      expect(longerThan(samples.toolWaits, QUEUED_MS)).toEqual([])
      expect(longerThan(samples.blockedByTool, QUEUED_MS)).toEqual([])
      expect(writes.slowestMs).toBeLessThan(2000)
    } finally {
      await app.end()
    }
    expect((await repair).actions.map((a) => a.key)).toEqual([{ id: '1549' }, { id: '1550' }])
    expect(lines[0]).toMatch(
      /^repair of orders_v2 waits on a row lock on public\.orders for key \{"id":"1550"\} \(divergence \d+\), held by another transaction: could not obtain lock on row in relation "orders"; retry \d+ of 30 in \d+ ms$/,
    )
    expect(await runVerify(db.pool, base)).toMatchObject({ clean: true })
  })

  it('a ramp and a rollback go through at once: they never touch legacy rows', async () => {
    await setPhase(db.pool, 'shadow_read')
    const app = await openTransaction('SELECT * FROM orders WHERE id = 1550 FOR UPDATE')
    try {
      expect(await ramp(tool, { ...base, percent: 5, force: true, ackTimeoutMs: 0 })).toMatchObject({
        to: { phase: 'ramp', readPercent: 5 },
      })
      expect(await rollback(tool, { ...base, ackTimeoutMs: 0 })).toMatchObject({
        to: { phase: 'dual_write', readPercent: 0 },
      })
    } finally {
      await app.end()
    }
  })
})

describe('a long transaction holding the state row', () => {
  it('backfill and verify go on: they never lock the state row', async () => {
    const operator = await openTransaction("SELECT * FROM cutover.state WHERE migration = 'orders_v2' FOR UPDATE")
    try {
      expect(await runBackfill(tool, { ...base, chunkRows: 1000 })).toMatchObject({ rows: ROWS })
      expect(await runVerify(tool, base)).toMatchObject({ clean: true })
    } finally {
      await operator.end()
    }
  })

  it('a ramp waits for it, naming the session that holds it, while the application writes on, and goes through when it ends', async () => {
    await setPhase(db.pool, 'shadow_read')
    const holder = await openTransaction(
      "SELECT * FROM cutover.state WHERE migration = 'orders_v2' FOR UPDATE",
      'psql-on-call',
    )
    const waits: Array<{ wait: StateLockWait; message: string }> = []
    const ramping = ramp(tool, {
      ...base,
      percent: 10,
      force: true,
      ackTimeoutMs: 0,
      onLockWait: (wait, message) => waits.push({ wait, message }),
    })
    try {
      await until(() => waits.length > 0)
      // The application's writes never wait on the state row.
      expect((await applicationWrites([1, 2, 3], 300)).slowestMs).toBeLessThan(2000)
    } finally {
      await holder.end()
    }
    expect(await ramping).toMatchObject({
      from: { phase: 'shadow_read' },
      to: { phase: 'ramp', readPercent: 10 },
      changed: true,
    })
    expect(waits[0]?.wait.blockers).toEqual([
      expect.objectContaining({ pid: holder.pid, application: 'psql-on-call', state: 'idle in transaction' }),
    ])
    expect(waits[0]?.message).toMatch(
      new RegExp(
        `^ramp of orders_v2 waits for the lock on its state row \\(cutover\\.state\\), held by pid ${holder.pid} ` +
          '\\(psql-on-call, user \\w+, idle in transaction for \\d+ s, last query: SELECT \\* FROM cutover\\.state .*\\); waited \\d+ s of at most 30 s$',
      ),
    )
  })

  it('a rollback from the CLI keeps waiting past the old 5 s lock timeout, says on stderr which pid holds the row, and rolls back when it is released', async () => {
    await setPhase(db.pool, 'ramp', 50)
    const holder = await openTransaction(
      "SELECT * FROM cutover.state WHERE migration = 'orders_v2' FOR UPDATE",
      'psql-on-call',
    )
    const run = runCli(['rollback', 'orders_v2', '--database-url', db.url, '--json', '--reason', 'p99 up'], {
      CUTOVER_LOG_LEVEL: '',
    })
    let waitingSince = 0
    try {
      await until(
        async () =>
          (
            await db.query(
              "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cutover-cli' AND wait_event_type = 'Lock'",
            )
          ).length > 0,
      )
      waitingSince = Date.now()
      await new Promise((resolve) => setTimeout(resolve, 6000))
    } finally {
      await holder.end()
    }
    const result = await run
    expect(Date.now() - waitingSince).toBeGreaterThanOrEqual(6000)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain(
      `"msg":"rollback of orders_v2 waits for the lock on its state row (cutover.state), held by pid ${holder.pid} (psql-on-call, `,
    )
    expect(result.json()).toMatchObject({
      from: { phase: 'ramp', readPercent: 50 },
      to: { phase: 'dual_write', readPercent: 0 },
    })
    expect(await readState(db.pool, 'cutover', 'orders_v2')).toMatchObject({ phase: 'dual_write', readPercent: 0 })
  })

  it('a rollback gives up after its bound with exit code 3 and a message naming the pid to end, changing nothing', async () => {
    await setPhase(db.pool, 'ramp', 50)
    const holder = await openTransaction(
      "SELECT * FROM cutover.state WHERE migration = 'orders_v2' FOR UPDATE",
      'psql-on-call',
    )
    const [{ events }] = (await db.query<{ events: number }>('SELECT count(*)::int AS events FROM cutover.events')) as [
      { events: number },
    ]
    let error: unknown
    try {
      error = await rollback(tool, { ...base, lockWaitMs: 1500, ackTimeoutMs: 0, onLockWait: () => undefined }).catch(
        (e: unknown) => e,
      )
    } finally {
      await holder.end()
    }
    expect(error).toBeInstanceOf(StateLocked)
    expect((error as StateLocked).exitCode).toBe(3)
    expect((error as StateLocked).blockers.map((b) => b.pid)).toEqual([holder.pid])
    expect((error as Error).message).toMatch(
      new RegExp(
        `^rollback of orders_v2 could not lock its state row within 2 s: it is held by pid ${holder.pid} \\(psql-on-call, .*\\); nothing changed\\. ` +
          `End that transaction \\(SELECT pg_terminate_backend\\(${holder.pid}\\)\\) or wait for it, then run the rollback again$`,
      ),
    )
    expect(await readState(db.pool, 'cutover', 'orders_v2')).toMatchObject({ phase: 'ramp', readPercent: 50 })
    expect(await db.query('SELECT count(*)::int AS events FROM cutover.events')).toEqual([{ events }])
  })
})
