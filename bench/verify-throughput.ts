/** `runVerify` rows/s against one whole-table FULL JOIN diff query, and against counting both tables, run alternately. */
import { Registry } from 'prom-client'
import { q } from '../src/shape/migration-shape.js'
import { runVerify } from '../src/jobs/entry/verify.js'
import { jobVariant, type JobSettings } from './backfill-throughput.js'
import { runAlternating, type TableRun } from './lib/alternating.js'
import { checkpoint, deleteJobs } from './lib/job-table.js'
import { result, type BenchResult } from './lib/results.js'
import { MIGRATION, SCHEMA, type BenchWorld } from './lib/setup.js'

/**
 * The shadow must hold the backfilled copy of legacy. Legacy goes through
 * `forward` into the shadow's shape, and is joined to the shadow on the
 * shadow's key; a row counts as different when the projections are distinct.
 */
export function diffQuery(world: BenchWorld): string {
  const { shape } = world
  const columns = shape.forward.map((m) => q(m.column))
  const projected = shape.forward.map((m) => `${m.expression} AS ${q(m.column)}`).join(', ')
  const row = (alias: string): string => `ROW(${columns.map((c) => `${alias}.${c}`).join(', ')})`
  return `SELECT count(*) FROM (SELECT ${projected} FROM ${shape.legacyTable}) AS l
    FULL JOIN ${shape.shadowTable} AS s ON ${shape.shadowKey.map((k) => `l.${q(k)} = s.${q(k)}`).join(' AND ')}
    WHERE ${row('l')} IS DISTINCT FROM ${row('s')}`
}

/** Which verify ratios to measure. */
export interface VerifyNames {
  /** `verify_throughput_ratio`: one worker ÷ the diff query (which PostgreSQL runs in parallel on every core it may). */
  readonly diff: boolean
  /** `verify_throughput_ratio_w<n>` for each n here: `--workers n` ÷ the same diff query. */
  readonly diffWorkers: readonly number[]
  /** `verify_vs_count_ratio`: one worker ÷ counting both tables. */
  readonly count: boolean
  /** `verify_throughput_ratio_p1`: one worker on one connection (`parallel: 1`) ÷ the same diff query. */
  readonly oneConnection: boolean
}

/** The verify ratios of {@link VerifyNames}; each covers the table's N keys. */
export async function measureVerify(
  world: BenchWorld,
  settings: JobSettings,
  names: VerifyNames,
  log: (line: string) => void,
): Promise<BenchResult[]> {
  const { shape, pool } = world
  await pool.query(`VACUUM ANALYZE ${shape.shadowTable}`)
  const registry = new Registry()
  const differing = async (sql: string): Promise<void> => {
    const { rows } = await pool.query<{ n: string }>(sql)
    if (Number(rows[0]?.n ?? 0) !== 0) log(`warning: ${rows[0]?.n} rows differ; the shadow is not a clean copy`)
  }
  const peaks = new Map<string, number>()
  const reset = async (): Promise<void> => {
    await deleteJobs(pool, 'verify')
    await checkpoint(pool)
  }
  const verify = (workers: number, parallel?: number): TableRun =>
    jobVariant(
      `runVerify_w${workers}${parallel === undefined ? '' : `_p${parallel}`}`,
      'verify',
      workers,
      settings,
      reset,
      async () => {
        const done = await runVerify(pool, {
          schema: SCHEMA,
          migration: MIGRATION,
          actor: 'bench',
          reason: 'benchmark',
          registry,
          workers,
          parallel,
        })
        if (!done.clean) log(`warning: runVerify found differences ${JSON.stringify(done.counts)}`)
        return done.rowsCompared
      },
      peaks,
      parallel,
    )
  const diff = diffQuery(world)
  const baselines: TableRun[] = []
  if (names.diff || names.diffWorkers.length > 0 || names.oneConnection)
    baselines.push({
      name: 'diff_query',
      prepare: () => checkpoint(pool),
      run: async () => {
        await differing(diff)
        return settings.rows
      },
    })
  if (names.count) {
    const count = `SELECT (SELECT count(*) FROM ${shape.legacyTable}) + (SELECT count(*) FROM ${shape.shadowTable}) AS n`
    baselines.push({
      name: 'count',
      prepare: () => checkpoint(pool),
      run: async () => {
        await pool.query(count)
        return settings.rows
      },
    })
  }
  const candidates = [
    ...(names.diff || names.count ? [verify(1)] : []),
    ...names.diffWorkers.map((w) => verify(w)),
    ...(names.oneConnection ? [verify(1, 1)] : []),
  ]
  const stats = await runAlternating([...baselines, ...candidates], settings.runs, log)
  const rate = (name: string): number => stats.get(name)?.medianRowsPerSecond ?? Number.NaN
  const peak = (workers: number): BenchResult[] => {
    const mib = peaks.get(`runVerify_w${workers}`)
    return mib === undefined ? [] : [result(`verify_peak_rss${workers === 1 ? '' : `_w${workers}`}`, mib, 'MiB')]
  }
  return [
    ...(names.diff || names.count ? peak(1) : []),
    ...names.diffWorkers.flatMap(peak),
    ...(names.diff ? [result('verify_throughput_ratio', rate('runVerify_w1'), 'rows/s', rate('diff_query'))] : []),
    ...names.diffWorkers.map((w) =>
      result(`verify_throughput_ratio_w${w}`, rate(`runVerify_w${w}`), 'rows/s', rate('diff_query')),
    ),
    ...(names.oneConnection
      ? [result('verify_throughput_ratio_p1', rate('runVerify_w1_p1'), 'rows/s', rate('diff_query'))]
      : []),
    ...(names.count ? [result('verify_vs_count_ratio', rate('runVerify_w1'), 'rows/s', rate('count'))] : []),
  ]
}
