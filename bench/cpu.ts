/** The library's own CPU per call, apart from the database: building a dual-write insert, hashing a row. */
import { rowHash } from '../src/core/row-hash.js'
import { writeStatement } from '../src/dal/dual-write-statement.js'
import type { MigrationShape } from '../src/dal/migration-shape.js'
import { result, type BenchResult } from './lib/results.js'
import { orderRow } from './lib/setup.js'

const BATCHES = 15
const BATCH_MS = 40

/**
 * Microseconds per call of `work`: the median of several timed batches, each
 * sized to about BATCH_MS, after a warm-up (so JIT and a noisy neighbour
 * count as little as they can).
 */
function microsecondsPerCall(work: () => number): number {
  let sink = 0
  let perBatch = 1
  for (;;) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < perBatch; i++) sink += work()
    if (Number(process.hrtime.bigint() - t0) / 1e6 >= BATCH_MS) break
    perBatch *= 2
  }
  const samples: number[] = []
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < perBatch; i++) sink += work()
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3 / perBatch)
  }
  if (sink === -1) process.stderr.write('') // keeps `work` from being optimised away
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)] as number
}

/** µs per `writeStatement` of a one-row insert in `dual_write` (legacy authoritative, shadow secondary). */
export function measureStatementBuild(shape: MigrationShape): BenchResult {
  const row = orderRow(42)
  const targets = { authority: 'legacy', secondary: 'shadow' } as const
  return result('statement_build_us', microsecondsPerCall(() => writeStatement(shape, targets, { op: 'insert', rows: [row] }).text.length), 'µs')
}

/** µs per `rowHash` of a row as node-postgres returns it (bigint as text, Date, parsed jsonb). */
export function measureRowHash(): BenchResult {
  const { placed_at: placedAt, ...rest } = orderRow(42)
  const row = { ...rest, id: '42', placed_at: new Date(String(placedAt)) }
  return result('row_hash_us', microsecondsPerCall(() => rowHash(row).length), 'µs')
}
