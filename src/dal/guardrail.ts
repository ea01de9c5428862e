/**
 * One migration's guardrail in one process: keeps a window of read latencies
 * by side and of divergences (per-second histograms, core/latency-window.ts:
 * O(1) per read, a bounded amount per check), judges them at most once a
 * second, and when a
 * bound is crossed rolls the migration back through the control schema (so
 * every process follows). Concurrent trips from several processes serialise
 * on the state row: the first rolls back, the others find nothing to change.
 */
import { hostname } from 'node:os'
import type { GuardrailConfig } from '../core/definition.js'
import { judgeSummary } from '../core/guardrail.js'
import { LatencyWindow } from '../core/latency-window.js'
import type { MigrationState, Phase, Side } from '../core/phases.js'
import type { Logger } from '../logger.js'
import type { Instruments } from '../metrics/instruments.js'

/** What a rollback reports back to the guardrail (the rollback action's result is one). */
export interface GuardrailRollbackResult {
  readonly changed: boolean
  readonly from: { readonly phase: Phase; readonly readPercent: number }
  readonly to: { readonly phase: Phase; readonly readPercent: number }
}

export interface GuardrailOptions {
  readonly migration: string
  readonly config: GuardrailConfig
  readonly instruments: Instruments
  readonly logger: Logger
  readonly state: () => MigrationState | undefined
  /** Rolls the migration back with trigger `guardrail`; resolves to what changed. */
  readonly rollback: (reason: string, details: Record<string, unknown>) => Promise<GuardrailRollbackResult>
  readonly now?: () => number
}

export class Guardrail {
  readonly #o: GuardrailOptions
  readonly #window: LatencyWindow
  #lastCheck = 0
  #tripping: Promise<void> | undefined
  #deferred: NodeJS.Timeout | undefined

  constructor(options: GuardrailOptions) {
    this.#o = options
    this.#window = new LatencyWindow(options.config.windowSeconds, options.config.minSamples)
  }

  get isEnabled(): boolean {
    return this.#o.config.maxDivergencesPerMinute > 0 || this.#o.config.maxP99Ratio > 0
  }

  observeRead(side: Side, seconds: number): void {
    if (!this.isEnabled) return
    this.#window.observeRead(side, seconds, this.#now())
    this.#maybeCheck()
  }

  observeDivergence(): void {
    if (!this.isEnabled) return
    this.#window.observeDivergence(this.#now())
    this.#maybeCheck()
  }

  /** Waits for a rollback this guardrail started, if any. */
  async settled(): Promise<void> {
    await this.#tripping
  }

  #now(): number {
    return this.#o.now ? this.#o.now() : Date.now()
  }

  #maybeCheck(): void {
    const now = this.#now()
    if (this.#tripping) return
    if (now - this.#lastCheck < 1000) {
      // Judged at most once a second, but a burst still gets judged: once the second is up.
      if (this.#deferred === undefined)
        this.#deferred = setTimeout(
          () => {
            this.#deferred = undefined
            this.#maybeCheck()
          },
          1000 - (now - this.#lastCheck),
        ).unref()
      return
    }
    this.#lastCheck = now
    // Summarised in every phase: legacy's baseline is kept up to date before the shadow serves.
    const summary = this.#window.summary(now)
    const phase = this.#o.state()?.phase
    // Only phases that read from the shadow can hurt users through it.
    if (phase !== 'shadow_read' && phase !== 'ramp' && phase !== 'shadow_primary') return
    const verdict = judgeSummary(this.#o.config, summary)
    if (!verdict.trip) return
    const details = {
      bound: verdict.bound,
      measured: verdict.measured,
      limit: verdict.limit,
      host: hostname(),
      pid: process.pid,
    }
    this.#tripping = this.#o
      .rollback(`guardrail: ${verdict.reason}`, details)
      .then(
        (result) => {
          if (result.changed) {
            this.#o.instruments.rollbacks.inc({ migration: this.#o.migration, trigger: 'guardrail' })
            this.#o.logger.error(
              { migration: this.#o.migration, ...details, from: result.from, to: result.to },
              `guardrail rolled back ${this.#o.migration}: ${verdict.reason}`,
            )
          }
          this.#window.clearShadow()
        },
        (error: unknown) =>
          this.#o.logger.error(
            { migration: this.#o.migration, err: error, ...details },
            `guardrail could not roll back ${this.#o.migration}: ${verdict.reason}`,
          ),
      )
      .finally(() => {
        this.#tripping = undefined
      })
  }
}
