/** What a migration's DAL is built from: its shape, executor, routing, instruments and side-work hooks (given once, by the root). */
import type { MigrationState, Side } from '../core/phases.js'
import type { Logger } from '../logger.js'
import type { Instruments } from '../metrics/instruments.js'
import type { MigrationShape } from '../shape/migration-shape.js'
import type { ComparisonQueue } from './comparison-queue.js'
import type { SqlExecutor } from './executor.js'
import type { Guardrail } from './guardrail.js'
import type { ComparisonMode } from './read-pipeline.js'
import type { StatementPolicy } from './statement-policy.js'

export interface DalContext {
  readonly shape: MigrationShape
  readonly schema: string
  readonly executor: SqlExecutor
  /** Named or unnamed statements, for the executors of callers' transactions too. */
  readonly statements?: StatementPolicy
  readonly instruments: Instruments
  readonly logger: Logger
  readonly state: () => MigrationState | undefined
  /** The side that serves a read of a routing key in a state (the migration's percentage provider; never throws). */
  readonly route: (state: MigrationState, routingKey: string) => Side
  readonly random: () => number
  /** Side work (divergence rows) the caller does not wait for; `flush` awaits it. */
  readonly background: (work: Promise<unknown>) => void
  /** Watches read latency by side and divergences; rolls back when a bound is crossed. */
  readonly guardrail?: Guardrail
  /** How sampled reads are compared; default `background`. */
  readonly comparisonMode?: ComparisonMode
  readonly checkWriteRoundTrip?: boolean // writes judge their round trip in their statement (default true)
  /** Background comparisons in flight (shared by the process's migrations); over its bound one is dropped and counted as skipped. */
  readonly comparisons: ComparisonQueue
}
