/**
 * Shadow reads at a fixed rate with guardrails on, and the event-loop delay
 * the process saw meanwhile (perf_hooks.monitorEventLoopDelay): what the
 * guardrail's per-read bookkeeping and once-a-second check cost the
 * application's other work.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { result, type BenchResult } from './lib/results.js'
import { READ_ROWS, type BenchWorld } from './lib/setup.js'

export interface GuardrailLoadSettings {
  /** Reads per second to drive, each in turn. */
  readonly rates: readonly number[]
  readonly seconds: number
  /** Reads in flight at most (the pool's size). */
  readonly concurrency: number
}

const TICK_MS = 5

/**
 * The world must be in `ramp` at 50 % (both sides serve, so the guardrail
 * judges the p99 ratio every second). Reads are started on a 5 ms tick to
 * keep the rate; one that would exceed `concurrency` in flight is not started
 * (the achieved rate is reported).
 */
async function drive(
  world: BenchWorld,
  rate: number,
  seconds: number,
  concurrency: number,
): Promise<{ p99Ms: number; maxMs: number; readsPerSecond: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  let inFlight = 0
  let done = 0
  let failed: unknown
  const started = performance.now()
  const end = started + seconds * 1000
  let issued = 0
  histogram.enable()
  while (performance.now() < end && failed === undefined) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate)
    while (issued < due && inFlight < concurrency) {
      issued++
      inFlight++
      const key = 1 + Math.floor(Math.random() * READ_ROWS)
      world.sampled.get(key, { routingKey: `k${key}` }).then(
        () => {
          inFlight--
          done++
        },
        (error: unknown) => {
          inFlight--
          failed = error
        },
      )
    }
    // Behind (the pool is full): the backlog is dropped, not replayed in a burst.
    if (issued < due) issued = due
    await new Promise((resolve) => setTimeout(resolve, TICK_MS))
  }
  histogram.disable()
  while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5))
  if (failed !== undefined) throw failed
  return {
    p99Ms: histogram.percentile(99) / 1e6,
    maxMs: histogram.max / 1e6,
    readsPerSecond: done / ((performance.now() - started) / 1000),
  }
}

/**
 * The same process's event-loop delay with no reads at all, over the same
 * time, on the same tick: what the machine (other processes, the scheduler)
 * causes by itself, the baseline of the figures under load.
 */
async function idle(seconds: number): Promise<{ p99Ms: number; maxMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  const end = performance.now() + seconds * 1000
  histogram.enable()
  while (performance.now() < end) await new Promise((resolve) => setTimeout(resolve, TICK_MS))
  histogram.disable()
  return { p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 }
}

/**
 * `guardrail_event_loop_delay_p99_ms` and `_max_ms` (at the highest rate; `_r<rate>` at the others), each against
 * the delay measured just before with no reads (the machine's own), and the read rate reached.
 */
export async function measureGuardrailLoad(
  world: BenchWorld,
  settings: GuardrailLoadSettings,
  log: (line: string) => void,
): Promise<BenchResult[]> {
  const results: BenchResult[] = []
  const highest = Math.max(...settings.rates)
  for (const rate of settings.rates) {
    const quiet = await idle(settings.seconds)
    const measured = await drive(world, rate, settings.seconds, settings.concurrency)
    const suffix = rate === highest ? '' : `_r${rate}`
    log(
      `guardrail load at ${rate} reads/s: ${measured.readsPerSecond.toFixed(0)} reads/s reached, event-loop delay p99 ${measured.p99Ms.toFixed(2)} ms, max ${measured.maxMs.toFixed(2)} ms (idle before: p99 ${quiet.p99Ms.toFixed(2)} ms, max ${quiet.maxMs.toFixed(2)} ms)`,
    )
    results.push(
      result(`guardrail_event_loop_delay_p99_ms${suffix}`, measured.p99Ms, 'ms', quiet.p99Ms),
      result(`guardrail_event_loop_delay_max_ms${suffix}`, measured.maxMs, 'ms', quiet.maxMs),
      result(`guardrail_load_reads_per_s${suffix}`, measured.readsPerSecond, 'reads/s', rate),
    )
  }
  return results
}
