/** Prints the results: an aligned table with a machine line for people, one JSON document for machines. */
import type { BenchResult } from './results.js'

export interface Machine {
  readonly cpus: number
  readonly cpuModel: string
  readonly node: string
  readonly postgres: string
  /** Where the server came from: `embedded`, `DATABASE_URL` or `--database-url`. */
  readonly server: string
  readonly platform: string
  readonly opsPerClient: number
  readonly roundOps: number
  /** Legacy rows of the backfill and verify measurements, and runs of each of their variants. */
  readonly rows: number
  readonly jobRuns: number
  readonly wallSeconds: number
}

const COLUMNS = ['name', 'value', 'unit', 'baseline', 'ratio'] as const

function cell(value: string | number | null): string {
  return value === null ? '-' : String(value)
}

export function textReport(machine: Machine, results: readonly BenchResult[]): string {
  const rows = results.map((r) => [r.name, cell(r.value), r.unit, cell(r.baseline), cell(r.ratio)])
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd()
  return [
    line(COLUMNS),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.platform}, node ${machine.node}, PostgreSQL ${machine.postgres} (${machine.server}); ` +
      `${machine.opsPerClient} ops per client per variant in rounds of ${machine.roundOps}; ` +
      `jobs on ${machine.rows} rows, median of ${machine.jobRuns} runs each; ${machine.wallSeconds} s`,
    '',
  ].join('\n')
}

export function jsonReport(machine: Machine, results: readonly BenchResult[]): string {
  return `${JSON.stringify({ machine, results })}\n`
}
