/** Whole-table runs of several variants (a job and its baselines), alternated run by run, reported as median rows per second. */

/** One variant: `prepare` (untimed) resets what a run changes, `run` does the work and returns the rows it covered. */
export interface TableRun {
  readonly name: string
  prepare(): Promise<void>
  run(): Promise<number>
}

export interface TableRunStats {
  readonly name: string
  /** Rows per second of each run, in the order they ran. */
  readonly rowsPerSecond: readonly number[]
  readonly medianRowsPerSecond: number
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/**
 * Runs every variant `runs` times: round r runs them in the given order, the
 * next round in reverse (A B C, C B A, …), so none always runs first or last
 * after a checkpoint or a noisy neighbour.
 */
export async function runAlternating(
  variants: readonly TableRun[],
  runs: number,
  log: (line: string) => void,
): Promise<Map<string, TableRunStats>> {
  const samples = new Map(variants.map((v) => [v.name, [] as number[]]))
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse()
    for (const variant of order) {
      await variant.prepare()
      const started = process.hrtime.bigint()
      const rows = await variant.run()
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      samples.get(variant.name)?.push(rows / seconds)
      log(
        `  ${variant.name}, run ${r + 1} of ${runs}: ${rows} rows in ${seconds.toFixed(2)} s (${Math.round(rows / seconds)} rows/s)`,
      )
    }
  }
  return new Map(
    [...samples].map(([name, values]) => [name, { name, rowsPerSecond: values, medianRowsPerSecond: median(values) }]),
  )
}
