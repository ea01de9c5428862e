/** `runBackfill` rows/s against one `INSERT INTO shadow SELECT <forward> FROM legacy` on the same table, run alternately. */
import { Registry } from 'prom-client'
import { list } from '../src/shape/migration-shape.js'
import { runBackfill } from '../src/jobs/entry/backfill.js'
import { runAlternating, type TableRun } from './lib/alternating.js'
import { startJobProcesses, type ReadyJobProcesses } from './lib/job-processes.js'
import { checkpoint, resetShadow } from './lib/job-table.js'
import { result, type BenchResult } from './lib/results.js'
import { MIGRATION, SCHEMA, type BenchWorld } from './lib/setup.js'

export interface JobSettings {
  /** Rows in the legacy table (already filled). */
  readonly rows: number
  /** Runs of each variant; the median is reported. */
  readonly runs: number
  /**
   * When set, an n-worker variant runs as n processes of one worker each on this database (as on n machines),
   * and each variant's peak RSS is reported; otherwise as n worker loops in this process.
   */
  readonly processUrl?: string
}

/** The n-worker run of a job: worker loops here, or (with `processUrl`) n processes started untimed in `prepare`. */
export function jobVariant(
  name: string,
  kind: 'backfill' | 'verify',
  workers: number,
  settings: JobSettings,
  reset: () => Promise<void>,
  inProcess: () => Promise<number>,
  peaks: Map<string, number>,
  parallel?: number,
): TableRun {
  const url = settings.processUrl
  if (url === undefined) return { name, prepare: reset, run: inProcess }
  let ready: ReadyJobProcesses | undefined
  return {
    name,
    prepare: async () => {
      await reset()
      ready = await startJobProcesses(url, SCHEMA, MIGRATION, kind, workers, parallel)
    },
    run: async () => {
      if (!ready) throw new Error(`${name}: no processes started`)
      const done = await ready.go()
      peaks.set(name, Math.max(peaks.get(name) ?? 0, done.peakRssMiB))
      return done.rows
    },
  }
}

/** The baseline's statement: every legacy row through `forward` into the shadow, in one statement. */
function copyAllText(world: BenchWorld): string {
  const { shape } = world
  return `INSERT INTO ${shape.shadowTable} (${list(shape.forward.map((m) => m.column))})
    SELECT ${shape.forward.map((m) => m.expression).join(', ')} FROM ${shape.legacyTable}`
}

/** Fills an empty shadow with the plain copy (for verify, when no backfill is measured). */
export async function copyLegacyToShadow(world: BenchWorld): Promise<void> {
  await resetShadow(world.pool)
  await world.pool.query(copyAllText(world))
}

/**
 * Each run starts from an empty shadow and no backfill job, after a
 * checkpoint. `workerCounts` picks the runBackfill variants (1 is
 * `backfill_throughput_ratio`, n > 1 adds `_w<n>`), all against one baseline.
 */
export async function measureBackfill(
  world: BenchWorld,
  settings: JobSettings,
  workerCounts: readonly number[],
  log: (line: string) => void,
  oneConnection = false,
): Promise<BenchResult[]> {
  const { pool } = world
  const copyAll = copyAllText(world)
  const registry = new Registry()
  const prepare = async (): Promise<void> => {
    await resetShadow(pool)
    await checkpoint(pool)
  }
  const baseline: TableRun = {
    name: 'insert_select',
    prepare,
    run: async () => (await pool.query(copyAll)).rowCount ?? 0,
  }
  const peaks = new Map<string, number>()
  const backfill = (workers: number, parallel?: number): TableRun =>
    jobVariant(
      `runBackfill_w${workers}${parallel === undefined ? '' : `_p${parallel}`}`,
      'backfill',
      workers,
      settings,
      prepare,
      async () => {
        const done = await runBackfill(pool, {
          schema: SCHEMA,
          migration: MIGRATION,
          actor: 'bench',
          reason: 'benchmark',
          workers,
          parallel,
          registry,
        })
        if (done.copied !== settings.rows) throw new Error(`runBackfill copied ${done.copied} rows of ${settings.rows}`)
        return done.rows
      },
      peaks,
      parallel,
    )
  const backfills = [...workerCounts.map((workers) => backfill(workers)), ...(oneConnection ? [backfill(1, 1)] : [])]
  const stats = await runAlternating([baseline, ...backfills], settings.runs, log)
  const base = stats.get(baseline.name)?.medianRowsPerSecond ?? Number.NaN
  const oneConnectionResult = oneConnection
    ? [
        result(
          'backfill_throughput_ratio_p1',
          stats.get('runBackfill_w1_p1')?.medianRowsPerSecond ?? Number.NaN,
          'rows/s',
          base,
        ),
      ]
    : []
  return [
    ...workerCounts.flatMap((workers) => {
      const suffix = workers === 1 ? '' : `_w${workers}`
      const peak = peaks.get(`runBackfill_w${workers}`)
      return [
        result(
          `backfill_throughput_ratio${suffix}`,
          stats.get(`runBackfill_w${workers}`)?.medianRowsPerSecond ?? Number.NaN,
          'rows/s',
          base,
        ),
        ...(peak === undefined ? [] : [result(`backfill_peak_rss${suffix}`, peak, 'MiB')]),
      ]
    }),
    ...oneConnectionResult,
  ]
}
