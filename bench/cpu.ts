/** The library's own CPU per call, apart from the database: building a dual-write insert, hashing a row, the guardrail's bookkeeping. */
import { DEFAULT_GUARDRAILS } from '../src/core/definition.js'
import { judgeGuardrails, judgeSummary } from '../src/core/guardrail.js'
import { LatencyWindow } from '../src/core/latency-window.js'
import { rowHash } from '../src/core/row-hash.js'
import { writeStatement } from '../src/dal/dual-write-statement.js'
import type { MigrationShape } from '../src/shape/migration-shape.js'
import { result, type BenchResult } from './lib/results.js'
import { orderRow } from './lib/setup.js'

const BATCHES = 15
const BATCH_MS = 40

/**
 * Microseconds per call of `work`: the median of several timed batches, each
 * sized to about BATCH_MS, after a warm-up (so JIT and a noisy neighbour
 * count as little as they can).
 */
function microsecondsPerCall(work: () => number, batches = BATCHES): number {
  let sink = 0
  let perBatch = 1
  for (;;) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < perBatch; i++) sink += work()
    if (Number(process.hrtime.bigint() - t0) / 1e6 >= BATCH_MS) break
    perBatch *= 2
  }
  const samples: number[] = []
  for (let b = 0; b < batches; b++) {
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
  return result(
    'statement_build_us',
    microsecondsPerCall(() => writeStatement(shape, targets, { op: 'insert', rows: [row] }).text.length),
    'µs',
  )
}

/** µs per `rowHash` of a row as node-postgres returns it (bigint as text, Date, parsed jsonb). */
export function measureRowHash(): BenchResult {
  const { placed_at: placedAt, ...rest } = orderRow(42)
  const row = { ...rest, id: '42', placed_at: new Date(String(placedAt)) }
  return result(
    'row_hash_us',
    microsecondsPerCall(() => rowHash(row).length),
    'µs',
  )
}

/**
 * The guardrail's once-a-second check over a full 60 s window of shadow reads
 * at 5,000/s on each side (300,000 latencies a side): µs per check of the
 * per-second histograms, against copying and sorting every latency (the
 * guardrail before them) as the baseline.
 */
export function measureGuardrailCheck(): BenchResult[] {
  const config = {
    ...DEFAULT_GUARDRAILS,
    maxP99Ratio: 3,
    maxDivergencesPerMinute: 10,
    windowSeconds: 60,
    minSamples: 50,
  }
  const perSecond = 5000
  const window = new LatencyWindow(config.windowSeconds, config.minSamples)
  const shadow: number[] = []
  const legacy: number[] = []
  for (let second = 0; second < config.windowSeconds; second++) {
    for (let i = 0; i < perSecond; i++) {
      const at = 1_000_000 + second * 1000 + (i * 1000) / perSecond
      const s = 0.0002 + Math.random() * 0.002
      const l = 0.0002 + Math.random() * 0.0015
      window.observeRead('shadow', s, at)
      window.observeRead('legacy', l, at)
      shadow.push(s)
      legacy.push(l)
    }
  }
  const now = 1_000_000 + config.windowSeconds * 1000 - 1
  const histograms = microsecondsPerCall(() => (judgeSummary(config, window.summary(now)).trip ? 1 : 0))
  const sorted = microsecondsPerCall(
    () => (judgeGuardrails(config, { divergences: 0, shadowLatencies: shadow, legacyLatencies: legacy }).trip ? 1 : 0),
    3,
  )
  let at = now
  const observe = microsecondsPerCall(() => {
    window.observeRead('shadow', 0.001, (at += 0.2))
    return 1
  })
  return [result('guardrail_check_us', histograms, 'µs', sorted), result('guardrail_observe_read_us', observe, 'µs')]
}
