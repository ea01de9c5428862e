/**
 * The process's own metrics of each migration: its counters made to exist at
 * 0 when its DAL is built, and the phase, read percentage and propagation
 * time of each state it applies.
 */
import { PHASES, type MigrationState } from '../core/phases.js'
import type { Logger } from '../logger.js'
import { COMPARISON_RESULTS, type Instruments } from '../metrics/instruments.js'

export class ProcessMetrics {
  readonly #i: Instruments
  readonly #logger: Logger

  constructor(instruments: Instruments, logger: Logger) {
    this.#i = instruments
    this.#logger = logger
  }

  /** Labelled counters exist from the start at 0, so `increase()` sees the first event too. */
  zeroCounters(migration: string): void {
    const i = this.#i
    for (const source of ['read', 'write'] as const) i.divergences.inc({ migration, source }, 0)
    for (const result of COMPARISON_RESULTS) i.comparisons.inc({ migration, source: 'read', result }, 0)
    for (const trigger of ['manual', 'guardrail'] as const) i.rollbacks.inc({ migration, trigger }, 0)
    for (const side of ['legacy', 'shadow'] as const) {
      i.reads.inc({ migration, served_from: side }, 0)
      for (const result of ['ok', 'error'] as const)
        i.operations.inc({ migration, operation: 'read', target: side, result }, 0)
    }
  }

  /** A state this process applies; `propagationSeconds` when it was a change this process heard of. */
  applied(migration: string, state: MigrationState, propagationSeconds: number | undefined): void {
    for (const phase of PHASES) this.#i.phase.set({ migration, phase }, phase === state.phase ? 1 : 0)
    this.#i.readPercent.set({ migration }, state.readPercent)
    if (propagationSeconds !== undefined) {
      this.#i.statePropagation.observe({ migration }, propagationSeconds)
      this.#logger.info(
        { migration, phase: state.phase, readPercent: state.readPercent, version: state.version, propagationSeconds },
        'applied a state change',
      )
    }
  }
}
