/** What a throttled backfill told its caller: chunks, holds and go-ons in order, warnings logged, and the gauge. */
import type { Registry } from 'prom-client'
import { expect } from 'vitest'

export interface ThrottleEvent {
  readonly kind: 'chunk' | 'throttled' | 'resumed'
  readonly reason?: string
  readonly rowsDone?: number
}

export interface ThrottleRecorder {
  readonly events: ThrottleEvent[]
  readonly warnings: string[]
  /** A JobLogger keeping the warnings. */
  readonly logger: { info(): void; debug(): void; warn(fields: Record<string, unknown>, message: string): void }
  onProgress(rowsDone: number): void
  onThrottle(reason: string | null): void
  /** cutover_job_throttled's value (-1: not set). */
  gauge(): Promise<number>
  /** Watches the run: `orFailure(x)` returns x, or throws the run's failure once it failed. */
  watch(run: Promise<unknown>): (holds: boolean) => boolean
  /** With one worker: it held, no chunk ran until it went on (only the reason's updated figure), chunks ran after, and the gauge is back at 0. */
  expectHeldThenResumed(): Promise<void>
}

export function throttleRecorder(registry: Registry): ThrottleRecorder {
  const events: ThrottleEvent[] = []
  const warnings: string[] = []
  const gauge = async (): Promise<number> =>
    (await registry.getSingleMetric('cutover_job_throttled')?.get())?.values[0]?.value ?? -1
  return {
    events,
    warnings,
    logger: {
      info: () => undefined,
      debug: () => undefined,
      warn: (_fields, message) => {
        warnings.push(message)
      },
    },
    onProgress: (rowsDone) => {
      events.push({ kind: 'chunk', rowsDone })
    },
    onThrottle: (reason) => {
      events.push(reason === null ? { kind: 'resumed' } : { kind: 'throttled', reason })
    },
    gauge,
    async expectHeldThenResumed() {
      const kinds = events.map((e) => e.kind)
      const from = kinds.indexOf('throttled')
      const to = kinds.indexOf('resumed')
      expect(from).toBeGreaterThanOrEqual(0)
      expect(to).toBeGreaterThan(from)
      expect(kinds.slice(from + 1, to).filter((k) => k !== 'throttled')).toEqual([])
      expect(kinds.slice(to + 1)).toContain('chunk')
      expect(await gauge()).toBe(0)
    },
    watch(run) {
      let failure: unknown
      run.catch((error: unknown) => {
        failure = error
      })
      return (holds) => {
        if (failure !== undefined) throw failure
        return holds
      }
    },
  }
}
