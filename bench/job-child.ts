/**
 * One job worker process for the bench's `--job-processes` runs: loads the
 * job code and connects, prints `ready`, waits for `go` on stdin, runs one
 * worker of the migration's backfill or verify (sharing the job with the
 * other processes through its leases, as on separate machines), then prints
 * `done <rows> <peak RSS in KiB>` and exits.
 * Usage: CUTOVER_CHILD_URL=<database url> job-child.ts <schema> <migration> <backfill|verify> [parallel connections of the worker]
 * (the URL in the environment: a command line, password and all, is visible to every user in ps).
 */
import { createInterface } from 'node:readline'
import pg from 'pg'
import { Registry } from 'prom-client'
import { runBackfill } from '../src/jobs/entry/backfill.js'
import { runVerify } from '../src/jobs/entry/verify.js'

const url = process.env.CUTOVER_CHILD_URL
const [schema, migration, kind, parallelArg] = process.argv.slice(2)
const parallel = parallelArg === undefined ? undefined : Number(parallelArg)
if (!url || !schema || !migration || (kind !== 'backfill' && kind !== 'verify'))
  throw new Error('usage: CUTOVER_CHILD_URL=<database url> job-child.ts <schema> <migration> <backfill|verify>')

// The worker's connection and the ones a chunk's parts run on at once.
const pool = new pg.Pool({ connectionString: url, max: 1 + (parallel ?? 2) })
pool.on('error', () => undefined)
await pool.query('SELECT 1')
const lines = createInterface({ input: process.stdin })
const go = new Promise<void>((resolve) =>
  lines.on('line', (line) => {
    if (line === 'go') resolve()
  }),
)
process.stdout.write('ready\n')
await go
const options = { schema, migration, actor: 'bench', reason: 'benchmark', registry: new Registry(), workers: 1 }
const rows =
  kind === 'backfill'
    ? (await runBackfill(pool, { ...options, parallel })).rows
    : (await runVerify(pool, { ...options, parallel })).rowsCompared
process.stdout.write(`done ${rows} ${process.resourceUsage().maxRSS}\n`)
lines.close()
await pool.end()
