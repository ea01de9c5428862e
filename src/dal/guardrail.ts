/**
 * One migration's guardrail in one process: keeps a window of read latencies
 * by side and of divergences, judges them at most once a second, and when a
 * bound is crossed rolls the migration back through the control schema (so
 * every process follows). Concurrent trips from several processes serialise
 * on the state row: the first rolls back, the others find nothing to change.
 */
import { hostname } from 'node:os'
import type { GuardrailConfig } from '../core/definition.js'
import { judgeGuardrails, legacyBaseline, type TimedLatency } from '../core/guardrail.js'
import type { MigrationState, Side } from '../core/phases.js'
import type { Logger } from '../logger.js'
import type { Instruments } from '../metrics/instruments.js'
import type { ActionResult } from '../actions/action-options.js'

export interface GuardrailOptions {
  readonly migration: string
  readonly config: GuardrailConfig
  readonly instruments: Instruments
  readonly logger: Logger
  readonly state: () => MigrationState | undefined
  /** Rolls the migration back with trigger `guardrail`; resolves to what changed. */
  readonly rollback: (reason: string, details: Record<string, unknown>) => Promise<ActionResult>
  readonly now?: () => number
}

const LEGACY_BASELINE = 1000

export class Guardrail {
  readonly #o: GuardrailOptions
  readonly #shadow: TimedLatency[] = []
  readonly #legacy: TimedLatency[] = []
  readonly #divergences: number[] = []
  #lastCheck = 0
  #tripping: Promise<void> | undefined
  #deferred: NodeJS.Timeout | undefined

  constructor(options: GuardrailOptions) {
    this.#o = options
  }

  get isEnabled(): boolean {
    return this.#o.config.maxDivergencesPerMinute > 0 || this.#o.config.maxP99Ratio > 0
  }

  observeRead(side: Side, seconds: number): void {
    if (!this.isEnabled) return
    if (side === 'shadow') this.#shadow.push({ at: this.#now(), seconds })
    else {
      this.#legacy.push({ at: this.#now(), seconds })
      if (this.#legacy.length > LEGACY_BASELINE) this.#legacy.splice(0, this.#legacy.length - LEGACY_BASELINE)
    }
    this.#maybeCheck()
  }

  observeDivergence(): void {
    if (!this.isEnabled) return
    this.#divergences.push(this.#now())
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
      if (this.#deferred === undefined) this.#deferred = setTimeout(() => { this.#deferred = undefined; this.#maybeCheck() }, 1000 - (now - this.#lastCheck)).unref()
      return
    }
    this.#lastCheck = now
    const phase = this.#o.state()?.phase
    // Only phases that read from the shadow can hurt users through it.
    if (phase !== 'shadow_read' && phase !== 'ramp' && phase !== 'shadow_primary') return
    const since = now - this.#o.config.windowSeconds * 1000
    while (this.#shadow[0] && this.#shadow[0].at < since) this.#shadow.shift()
    while (this.#divergences[0] !== undefined && this.#divergences[0] < since) this.#divergences.shift()
    const verdict = judgeGuardrails(this.#o.config, {
      divergences: this.#divergences.length,
      shadowLatencies: this.#shadow.map((s) => s.seconds),
      legacyLatencies: legacyBaseline(this.#legacy, since, this.#o.config.minSamples),
    })
    if (!verdict.trip) return
    const details = { bound: verdict.bound, measured: verdict.measured, limit: verdict.limit, host: hostname(), pid: process.pid }
    this.#tripping = this.#o.rollback(`guardrail: ${verdict.reason}`, details).then(
      (result) => {
        if (result.changed) {
          this.#o.instruments.rollbacks.inc({ migration: this.#o.migration, trigger: 'guardrail' })
          this.#o.logger.error({ migration: this.#o.migration, ...details, from: result.from, to: result.to }, `guardrail rolled back ${this.#o.migration}: ${verdict.reason}`)
        }
        this.#shadow.length = 0
        this.#divergences.length = 0
      },
      (error: unknown) => this.#o.logger.error({ migration: this.#o.migration, err: error, ...details }, `guardrail could not roll back ${this.#o.migration}: ${verdict.reason}`),
    ).finally(() => { this.#tripping = undefined })
  }
}
