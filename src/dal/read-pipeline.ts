/**
 * The one read path of the DAL, for key reads and selects alike: the served
 * side's statement with its latency, counters and guardrail observation, the
 * fall back to the authoritative side, and for a sampled read its comparison:
 * in the background on the pool (the default) or inline in the same call.
 */
import { phasePolicy, type MigrationState, type Side } from '../core/phases.js'
import { withSavepoint } from '../db/with-savepoint.js'
import type { Logger } from '../logger.js'
import type { MigrationInstruments } from '../metrics/instruments.js'
import type { ComparisonQueue } from './comparison-queue.js'
import type { SqlExecutor } from './executor.js'
import type { Guardrail } from './guardrail.js'
import { EQUAL_COLUMN } from './read-statement.js'
import { SIDE_COLUMN } from '../shape/compared-sides.js'

export type Row = Record<string, unknown>

/** A statement and, when known, its prepared name. */
export interface ReadStatement {
  readonly text: string
  readonly values: readonly unknown[]
  readonly name?: string
}

/**
 * How sampled reads are compared. `background` (the default): the caller gets
 * the routed side's rows at once and a comparison runs later on the pool;
 * `inline`: both sides are read in the caller's call and a mismatch is served
 * from the authoritative side.
 */
export type ComparisonMode = 'background' | 'inline'

/** What one read is: its statements, built when needed, and what its rows become. */
export interface ReadPlan<T> {
  /** The read of one side, in the legacy shape. */
  read(side: Side): ReadStatement
  /** Both sides in one snapshot, one row `equal` computed by PostgreSQL. */
  equal(): ReadStatement
  /** Both sides' rows tagged with their side, each carrying the verdict (EQUAL_COLUMN). */
  inline(): ReadStatement
  /** Fetches both sides' comparable projections, records each difference as a divergence; resolves to whether any was found. */
  record(executor: SqlExecutor): Promise<boolean>
  result(rows: Row[]): T
}

export interface ReadPipelineContext {
  readonly name: string
  readonly instruments: MigrationInstruments
  readonly logger: Logger
  readonly guardrail?: Guardrail
  /** The pool's executor: background comparisons and divergence rows run there, never in a caller's transaction. */
  readonly pool: SqlExecutor
  readonly random: () => number
  readonly mode: ComparisonMode
  readonly queue: ComparisonQueue
  /** Side work the caller does not wait for (inline mode's divergence rows); `flush` awaits it. */
  readonly background: (work: Promise<unknown>) => void
  /** The compare sample of a phase (shadowReadSample in shadow_read, else compareSample). */
  readonly sample: (state: MigrationState) => number
}

/** Inline comparisons inside a caller's transaction run in this savepoint, so a failing one leaves the transaction usable. */
export function inSavepoint<R>(executor: SqlExecutor, statement: ReadStatement): Promise<R[]> {
  return withSavepoint(executor, 'cutover_op', () =>
    executor.query<R>(statement.text, statement.values, statement.name),
  )
}

const FAILED = Symbol('failed')

export class ReadPipeline {
  readonly #c: ReadPipelineContext

  constructor(context: ReadPipelineContext) {
    this.#c = context
  }

  /** Reads `plan` from `served` (routing's choice) in `state`, through `executor` (the caller's transaction when `inCallerTx`). */
  async run<T>(
    plan: ReadPlan<T>,
    state: MigrationState,
    served: Side,
    executor: SqlExecutor,
    inCallerTx: boolean,
  ): Promise<T> {
    const sampled = phasePolicy(state.phase).compareReads && this.#c.random() < this.#c.sample(state)
    if (sampled && this.#c.mode === 'inline') {
      const compared = await this.#inline(plan, executor, served, state.authority, inCallerTx)
      if (compared !== FAILED) return compared
    }
    const rows = await this.#serve(plan, executor, served, state.authority)
    if (sampled && this.#c.mode === 'background') this.#compareLater(plan)
    return plan.result(rows)
  }

  async #serve<T>(plan: ReadPlan<T>, executor: SqlExecutor, served: Side, authority: Side): Promise<Row[]> {
    const m = this.#c.instruments
    const statement = plan.read(served)
    const started = performance.now()
    try {
      const rows = await executor.query<Row>(statement.text, statement.values, statement.name)
      const seconds = (performance.now() - started) / 1000
      m.readDuration[served].observe(seconds)
      this.#c.guardrail?.observeRead(served, seconds)
      m.reads[served].inc()
      m.readResults[served].ok.inc()
      return rows
    } catch (error) {
      m.readDuration[served].observe((performance.now() - started) / 1000)
      m.readResults[served].error.inc()
      // A failing non-authoritative read never fails the caller: serve the authoritative side.
      if (served === authority) throw error
      this.#c.logger.warn({ migration: this.#c.name, err: error }, `${served} read failed; served from ${authority}`)
      return this.#serve(plan, executor, authority, authority)
    }
  }

  /** Starts the comparison on the pool unless too many run already (then it is dropped and counted as skipped). */
  #compareLater<T>(plan: ReadPlan<T>): void {
    const m = this.#c.instruments
    const statement = plan.equal()
    const accepted = this.#c.queue.submit(async () => {
      try {
        const rows = await this.#c.pool.query<{ equal: boolean }>(statement.text, statement.values, statement.name)
        // Different in this snapshot: fetched again with both projections and recorded (a write in between may have made them equal).
        const differs = rows[0]?.equal !== true && (await plan.record(this.#c.pool))
        this.#counted(differs)
      } catch (error) {
        m.comparisons.error.inc()
        this.#c.logger.warn({ migration: this.#c.name, err: error }, 'background read comparison failed')
      }
    })
    if (!accepted) m.comparisons.skipped.inc()
  }

  async #inline<T>(
    plan: ReadPlan<T>,
    executor: SqlExecutor,
    served: Side,
    authority: Side,
    inCallerTx: boolean,
  ): Promise<T | typeof FAILED> {
    const m = this.#c.instruments
    const statement = plan.inline()
    let rows: Row[]
    try {
      // Not timed by side: the statement reads both, and would blur the shadow-vs-legacy latency the guardrail judges.
      rows = inCallerTx
        ? await inSavepoint<Row>(executor, statement)
        : await executor.query<Row>(statement.text, statement.values, statement.name)
    } catch (error) {
      m.comparisons.error.inc()
      this.#c.logger.warn({ migration: this.#c.name, err: error }, 'compared read failed; serving without comparison')
      return FAILED
    }
    const equal = rows.length === 0 || rows[0]?.[EQUAL_COLUMN] === true
    const from = equal ? served : authority
    const picked: Row[] = []
    for (const { [SIDE_COLUMN]: side, [EQUAL_COLUMN]: _, ...row } of rows) if (side === from) picked.push(row)
    m.reads[from].inc()
    this.#counted(!equal)
    if (!equal) {
      // Recorded on the pool, after the caller's call, exactly as a background comparison records.
      this.#c.background(
        plan
          .record(this.#c.pool)
          .catch((error: unknown) =>
            this.#c.logger.warn({ migration: this.#c.name, err: error }, 'recording a read divergence failed'),
          ),
      )
    }
    return plan.result(picked)
  }

  #counted(differs: boolean): void {
    const m = this.#c.instruments
    if (!differs) {
      m.comparisons.match.inc()
      return
    }
    m.comparisons.mismatch.inc()
    m.divergences.read.inc()
    this.#c.guardrail?.observeDivergence()
  }
}
