/**
 * Issue 13: the DAL through a real PgBouncer in pool_mode=transaction. Named
 * prepared statements belong to a server connection, which the pooler hands
 * to another client's next transaction: 598 of 800 writes failed that way.
 */
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { executorFor } from '../../src/dal/executor.js'
import { StatementPolicy } from '../../src/dal/statement-policy.js'
import { freshDatabase } from '../support/database.js'
import { rowsOf, setPhase, setupOrders } from '../support/orders-fixture.js'
import { poolerUnavailable, startPooler, type Pooler } from '../support/pooler.js'
import { runTsx } from '../support/run-tsx.js'

const skip = poolerUnavailable()
const db = await freshDatabase()
let pooler: Pooler
const CHILD = fileURLToPath(new URL('../support/pooled-dal-child.ts', import.meta.url))

beforeAll(async () => {
  if (skip) return
  pooler = (await startPooler(inject('adminUrl'))) as Pooler
  // No guardrail rollback mid-run: through the pooler, latency is not what this test is about.
  await setupOrders(db, { guardrails: { maxP99Ratio: 1e6, maxDivergencesPerMinute: 1e9 } })
  await setPhase(db.pool, 'ramp', 50)
})
afterAll(async () => {
  await pooler?.stop()
})

interface ChildReport {
  operations: number
  errors: number
  messages: string[]
  statementMode: string
  compared: Record<string, number>
}

describe.skipIf(skip)('the DAL behind a transaction pooler (issue 13)', () => {
  it('10,000 mixed writes and compared reads from four processes, in and out of caller transactions, fail none and leave both tables identical', async () => {
    const processes = 4
    const results = await Promise.all(
      Array.from({ length: processes }, (_, i) =>
        runTsx(CHILD, [String(10_000 / processes), String(1_000_000 * (i + 1)), String(13 + i)], {
          CUTOVER_CHILD_URL: pooler.url(db.name),
        }),
      ),
    )
    const reports = results.map((r) => {
      expect(r.stderr).toBe('')
      return JSON.parse(r.stdout) as ChildReport
    })
    expect(reports.map((r) => [r.operations, r.errors, r.messages])).toEqual(
      Array(processes).fill([10_000 / processes, 0, []]),
    )
    expect(reports.map((r) => r.statementMode)).toEqual(Array(processes).fill('unnamed'))
    // Every compared read ran and matched: none errored (a comparison never turns itself off silently).
    for (const r of reports) {
      expect(r.compared.error ?? 0).toBe(0)
      expect(r.compared.mismatch ?? 0).toBe(0)
      expect(r.compared.match).toBeGreaterThan(500)
    }
    const legacy = await rowsOf(db, 'orders')
    expect(legacy.length).toBeGreaterThan(1000)
    expect(await rowsOf(db, 'orders_v2')).toEqual(legacy)
    expect(await db.query('SELECT count(*)::int AS n FROM cutover.divergences')).toEqual([{ n: 0 }])
  }, 240_000)

  it('in auto mode without the pooler detected, the first missing prepared statement switches to unnamed statements, says so once, and retries the statement', async () => {
    const pool = new pg.Pool({ connectionString: pooler.url(db.name), max: 16 })
    pool.on('error', () => undefined)
    const lines: string[] = []
    const logger = pino(
      { level: 'info' },
      {
        write: (line: string) => {
          lines.push(line)
        },
      },
    )
    const policy = new StatementPolicy('auto', { logger })
    const executor = executorFor(pool, policy)
    try {
      const texts = ['SELECT $1::int + 1 AS n', 'SELECT $1::int + 2 AS n', 'SELECT $1::int + 3 AS n']
      for (let round = 0; round < 100 && policy.isNamed; round++) {
        const answers = await Promise.all(
          Array.from({ length: 32 }, (_, i) => executor.query<{ n: number }>(texts[i % 3] as string, [i])),
        )
        expect(answers.map((a) => a[0]?.n)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1 + (i % 3)))
      }
      expect(policy.isNamed).toBe(false)
      const said = lines.map((l) => JSON.parse(l) as { msg: string }).filter((l) => /unnamed/.test(l.msg))
      expect(said).toHaveLength(1)
    } finally {
      await pool.end()
    }
  })
})
