/** Latency percentiles, and the interleaved runner that measures a candidate against its baseline side by side. */

/** One timed operation of one concurrent client (0-based). */
export type Operation = (client: number) => Promise<void>

export interface LatencyStats {
  readonly ops: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Operations of all clients per second of wall time spent in this variant's rounds. */
  readonly opsPerSecond: number
}

export interface Comparison {
  readonly clients: number
  /** The application's current call: the plain statement, unnamed (parsed and planned per call), as Kysely sends it. */
  readonly baseline: LatencyStats
  /** The physical limit: the same plain statement as a named prepared statement. */
  readonly prepared?: LatencyStats
  readonly candidate: LatencyStats
}

export interface InterleavedOptions {
  readonly clients: number
  /** Recorded operations per client per variant. */
  readonly opsPerClient: number
  /** Operations per client in one round of one variant; short rounds, many of them. */
  readonly roundOps: number
  /** Unrecorded operations per client per variant before the first round (JIT, caches, connections). */
  readonly warmupOps: number
  readonly baseline: Operation
  /** The baseline's statement as a named prepared statement, measured in the same rounds. */
  readonly prepared?: Operation
  readonly candidate: Operation
}

/** How long a measurement runs, apart from what it measures. */
export type RunSettings = Pick<InterleavedOptions, 'opsPerClient' | 'roundOps' | 'warmupOps'>

/** Nearest-rank percentile of ascending `sorted` (p in 0…1). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)))
  return sorted[rank - 1] as number
}

class Recorder {
  readonly samplesMs: Float64Array
  count = 0
  wallNs = 0n

  constructor(capacity: number) {
    this.samplesMs = new Float64Array(capacity)
  }

  stats(): LatencyStats {
    const sorted = this.samplesMs.slice(0, this.count).sort()
    const seconds = Number(this.wallNs) / 1e9
    return {
      ops: this.count,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      opsPerSecond: seconds > 0 ? this.count / seconds : 0,
    }
  }
}

/** Every client runs `ops` operations of `operation` back to back, all clients at once. */
async function round(
  clients: number,
  ops: number,
  operation: Operation,
  recorder: Recorder | undefined,
): Promise<void> {
  const started = process.hrtime.bigint()
  const loop = async (client: number): Promise<void> => {
    for (let i = 0; i < ops; i++) {
      const t0 = process.hrtime.bigint()
      await operation(client)
      if (recorder) recorder.samplesMs[recorder.count++] = Number(process.hrtime.bigint() - t0) / 1e6
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, client) => loop(client)))
  if (recorder) recorder.wallNs += process.hrtime.bigint() - started
}

/**
 * Alternates short rounds of baseline, prepared baseline and candidate (ABC
 * CBA order, so none always runs first), so drift on a shared machine hits
 * all alike.
 */
export async function runInterleaved(options: InterleavedOptions): Promise<Comparison> {
  const { clients, opsPerClient, roundOps } = options
  const variants: [Operation, Recorder][] = [[options.baseline, new Recorder(clients * opsPerClient)]]
  if (options.prepared) variants.push([options.prepared, new Recorder(clients * opsPerClient)])
  variants.push([options.candidate, new Recorder(clients * opsPerClient)])
  for (const [operation] of variants) await round(clients, options.warmupOps, operation, undefined)
  const rounds = Math.ceil(opsPerClient / roundOps)
  for (let r = 0; r < rounds; r++) {
    const ops = Math.min(roundOps, opsPerClient - r * roundOps)
    const order = r % 2 === 1 ? [...variants].reverse() : variants
    for (const [operation, recorder] of order) await round(clients, ops, operation, recorder)
  }
  const [baseline, ...rest] = variants.map(([, recorder]) => recorder.stats())
  const candidate = rest[rest.length - 1] as LatencyStats
  return {
    clients,
    baseline: baseline as LatencyStats,
    ...(options.prepared ? { prepared: rest[0] as LatencyStats } : {}),
    candidate,
  }
}
