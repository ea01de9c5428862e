import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveMetrics, type MetricsServer } from '../../src/metrics/metrics-server.js'
import { readStatus } from '../../src/store/state/status-sql.js'
import { expectRefusedUnchanged, runCli } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { setupSlowShadowOrders, until, type SlowShadowOrders } from '../support/slow-shadow-orders.js'
import { prometheusUnavailable, startPrometheus, type RunningPrometheus } from '../support/prometheus.js'

const skip = prometheusUnavailable()
const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'ana'])
const READ_KEYS = 50
const ROWS = 2000
const P99_QUERY =
  'histogram_quantile(0.99, sum by (le) (rate(cutover_operation_duration_seconds_bucket{operation="read"}[5s])))'
let app: SlowShadowOrders
let metrics: MetricsServer
let prometheus: RunningPrometheus

async function queryPrometheus(): Promise<number> {
  const url = new URL('/api/v1/query', prometheus.url)
  url.searchParams.set('query', P99_QUERY)
  const body = (await (await fetch(url)).json()) as { data?: { result?: { value: [number, string] }[] } }
  return Number(body.data?.result?.[0]?.value[1] ?? Number.NaN)
}

describe.skipIf(skip !== undefined)('backfill --max-app-p99-ms against a real Prometheus scraping the DAL', () => {
  beforeAll(async () => {
    app = await setupSlowShadowOrders(db, READ_KEYS, ROWS)
    metrics = await serveMetrics({ port: 0, registry: app.registry })
    prometheus = await startPrometheus(metrics.url)
  }, 120_000)

  afterAll(async () => {
    await prometheus?.stop()
    await metrics?.close()
    await app?.cutover.close()
    await app?.pool.end()
  })

  it('holds while the application p99 Prometheus reports is above the bound, saying so on the terminal and in status, and goes on when it drops', async () => {
    await app.setShadowDelay(0.5)
    const stopReading = app.readContinuously()
    try {
      await until(async () => (await queryPrometheus()) > 0.2, 60_000, 'Prometheus to see the slow reads')
      const run = cli(
        'backfill',
        'orders_v2',
        '--max-app-p99-ms',
        '200',
        '--prometheus-url',
        prometheus.url,
        '--p99-query',
        P99_QUERY,
        '--max-rows-per-second',
        '1000',
        '--chunk-rows',
        '100',
      )
      let exited = false
      void run.then(() => {
        exited = true
      })
      await until(
        async () => {
          if (exited) throw new Error(`backfill exited before it was seen held: ${(await run).stderr}`)
          const [status] = await readStatus(db.pool, 'cutover', 'orders_v2')
          return /^application p99 \d+ ms > 200 ms \(prometheus\)$/.test(status?.backfill.throttled ?? '')
        },
        60_000,
        'status to show the hold',
      )
      await app.setShadowDelay(0)
      const done = await run
      expect(done.code).toBe(0)
      expect(done.stderr).toMatch(/throttled: application p99 \d+ ms > 200 ms \(prometheus\)/)
      expect(done.stderr).toMatch(/goes on, the throttle no longer holds/)
      expect(await db.query('SELECT count(*)::int AS n FROM orders_v2')).toEqual([{ n: READ_KEYS + ROWS }])
      const [after] = await readStatus(db.pool, 'cutover', 'orders_v2')
      expect(after?.backfill.throttled).toBeNull()
    } finally {
      await stopReading()
      await app.setShadowDelay(0)
    }
  }, 180_000)

  it('refuses a bound that is not a positive number in one line, writing nothing; the suggested command then runs', async () => {
    const refused = await expectRefusedUnchanged(
      () =>
        cli(
          'backfill',
          'orders_v2',
          '--max-app-p99-ms',
          '0',
          '--prometheus-url',
          prometheus.url,
          '--p99-query',
          'vector(0)',
        ),
      () => controlSnapshot(db.pool),
      2,
      /--max-app-p99-ms \(maxAppP99Ms\) must be a positive number of milliseconds, got 0; for example: cutover backfill orders_v2 --max-app-p99-ms 250 --prometheus-url \S+ --p99-query 'vector\(0\)'$/,
    )
    const suggested = /for example: cutover (.*) --p99-query '(.*)'$/.exec(refused.stderr.trim())
    const ran = await cli(...(suggested?.[1] ?? '').split(' '), '--p99-query', suggested?.[2] ?? '')
    expect(ran.code).toBe(0)
  }, 60_000)

  it('refuses a bound without a source, and a query Prometheus cannot answer, before anything is written', async () => {
    await expectRefusedUnchanged(
      () => cli('backfill', 'orders_v2', '--max-app-p99-ms', '250'),
      () => controlSnapshot(db.pool),
      2,
      /--max-app-p99-ms needs where to read the p99 from: add --prometheus-url URL --p99-query 'PROMQL'.*or run without it: cutover backfill orders_v2$/,
    )
    await expectRefusedUnchanged(
      () =>
        cli(
          'backfill',
          'orders_v2',
          '--max-app-p99-ms',
          '250',
          '--prometheus-url',
          prometheus.url,
          '--p99-query',
          'up{',
        ),
      () => controlSnapshot(db.pool),
      2,
      /the application p99 cannot be read from prometheus: prometheus refused the query: .*parse error/,
    )
  }, 60_000)
})

describe('backfill --prometheus-url with credentials', () => {
  it('never prints the password, even when Prometheus cannot be reached', async () => {
    const refused = await expectRefusedUnchanged(
      () =>
        cli(
          'backfill',
          'orders_v2',
          '--max-app-p99-ms',
          '250',
          '--prometheus-url',
          'http://ana:s3cret-pw@127.0.0.1:59873',
          '--p99-query',
          'vector(0)',
        ),
      () => controlSnapshot(db.pool),
      2,
      /the application p99 cannot be read from prometheus: prometheus did not answer \(ECONNREFUSED\)/,
    )
    expect(refused.stderr + refused.stdout).not.toContain('s3cret-pw')
  }, 60_000)
})
