/**
 * The data-access layer for one migration: writes go where the current phase
 * says, in one statement; reads are routed by sticky percentage and a sample
 * is compared with the other side. Rows go in and come out in the legacy shape.
 */
import { defaultRoutingKey } from '../core/routing.js'
import { ConfigInvalid } from '../core/errors.js'
import { phasePolicy, UNKNOWN_STATE, type MigrationState, type Side } from '../core/phases.js'
import type { Logger } from '../logger.js'
import type { Instruments } from '../metrics/instruments.js'
import type { Guardrail } from './guardrail.js'
import { recordDivergenceSql } from '../store/divergences/divergence-sql.js'
import { isConstraintViolation, serverMessage } from '../db/pg-errors.js'
import { controlSchema } from '../db/control-schema.js'
import { withSavepoint } from '../db/with-savepoint.js'
import { comparableRow, judge, type SideRow } from './compare-rows.js'
import { writeStatement, type Statement, type WriteRequest, type WriteTargets } from './dual-write-statement.js'
import { executorFor, type Database, type SqlExecutor } from './executor.js'
import type { MigrationShape } from './migration-shape.js'
import { requireTransaction } from './require-transaction.js'
import type { StatementPolicy } from './statement-policy.js'
import { compileOnlyKysely } from './query-compiler.js'
import { routedSelect } from './routed-select.js'
import type { SelectBuilder } from './select-statement.js'
import { COMPARE_COLUMN, comparedRead, legacyRead, shadowRead, SIDE_COLUMN } from './read-statement.js'

export type Row = Record<string, unknown>

/** A key value as text, the form divergence rows store (never a lossy JSON number). */
function keyText(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value)
}

/** PostgreSQL's limit on parameters in one statement. */
const MAX_PARAMETERS = 65_535
/** A key: an object of legacy key column to value, or the bare value of a one-column key. */
export type Key = Readonly<Record<string, unknown>> | string | number | bigint

export interface CallOptions {
  /** A transaction the caller holds (Kysely transaction or pg client); the operation runs inside it. */
  readonly tx?: Database
}

export interface ReadOptions extends CallOptions {
  /** What sticky routing hashes (a user or tenant id); default: the row key. */
  readonly routingKey?: string
}

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
}

export class MigrationDal {
  readonly #c: DalContext
  readonly #kysely = compileOnlyKysely()
  readonly name: string

  constructor(context: DalContext) {
    this.#c = context
    this.name = context.shape.definition.name
  }

  /** The state this process applies now (legacy-only `off` when none is known). */
  get state(): MigrationState {
    return this.#c.state() ?? UNKNOWN_STATE
  }

  async insert(row: Row, options: CallOptions = {}): Promise<Row> {
    this.#requireColumns(row, 'insert')
    const rows = await this.#write('insert', { op: 'insert', rows: [row] }, options)
    return rows[0] as Row
  }

  /** Inserts a batch in one statement: all rows on both sides, or none. */
  async insertMany(rows: readonly Row[], options: CallOptions = {}): Promise<Row[]> {
    if (rows.length === 0) return []
    for (const row of rows) this.#requireColumns(row, 'insertMany')
    const columns = new Set(rows.flatMap((r) => Object.keys(r))).size
    if (rows.length * columns > MAX_PARAMETERS) {
      throw new ConfigInvalid(this.name, `insertMany of ${rows.length} rows × ${columns} columns exceeds PostgreSQL's ${MAX_PARAMETERS} parameters per statement; split it into batches of at most ${Math.floor(MAX_PARAMETERS / columns)} rows`)
    }
    return this.#write('insert', { op: 'insert', rows }, options)
  }

  async update(key: Key, patch: Row, options: CallOptions = {}): Promise<Row | undefined> {
    const columns = Object.keys(patch)
    if (columns.length === 0) throw new ConfigInvalid(this.name, 'update needs at least one column to change')
    const keyColumn = columns.find((c) => this.#c.shape.legacyKey.includes(c))
    if (keyColumn) throw new ConfigInvalid(this.name, `update cannot change key column "${keyColumn}"; delete the row and insert it under the new key`)
    this.#requireColumns(patch, 'update')
    const rows = await this.#write('update', { op: 'update', key: this.#keyValues(key), patch }, options)
    return rows[0]
  }

  async upsert(row: Row, options: CallOptions = {}): Promise<Row> {
    this.#requireColumns(row, 'upsert')
    this.#keyValues(row)
    const rows = await this.#write('upsert', { op: 'upsert', rows: [row] }, options)
    return rows[0] as Row
  }

  async delete(key: Key, options: CallOptions = {}): Promise<Row | undefined> {
    const rows = await this.#write('delete', { op: 'delete', key: this.#keyValues(key) }, options)
    return rows[0]
  }

  /**
   * A read of any shape, written as a Kysely select over the legacy table
   * (`from` is `selectFrom` on it, aliased as its name); routed to the shadow
   * through `backward` when routing says so. Without `routingKey` it reads
   * the shadow only at 100 % (or once the shadow is authoritative).
   */
  async select<R = Row>(build: SelectBuilder<R>, options: ReadOptions = {}): Promise<R[]> {
    const executor = this.#executorFor(options)
    return routedSelect(this.#c, this.#kysely, executor, this.state, build, options)
  }

  /** Reads one row by key, from the side routing picks; a sample is compared with the other side. */
  async get(key: Key, options: ReadOptions = {}): Promise<Row | undefined> {
    const values = this.#keyValues(key)
    const state = this.state
    const policy = phasePolicy(state.phase)
    const served = this.#c.route(state, options.routingKey ?? defaultRoutingKey(values))
    const sample = state.phase === 'shadow_read' ? this.#c.shape.definition.shadowReadSample : this.#c.shape.definition.compareSample
    const executor = this.#executorFor(options)
    if (policy.compareReads && this.#c.random() < sample) {
      const compared = await this.#comparedGet(executor, values, served, state.authority, options.tx !== undefined)
      if (compared !== 'failed') return compared
    }
    return this.#plainGet(executor, values, served, state.authority)
  }

  /** The pool's executor, or one on the caller's transaction (refused when it is none). */
  #executorFor(options: CallOptions): SqlExecutor {
    if (options.tx === undefined) return this.#c.executor
    requireTransaction(this.name, options.tx)
    return executorFor(options.tx, this.#c.statements)
  }

  async #plainGet(executor: SqlExecutor, key: unknown[], served: Side, authority: Side): Promise<Row | undefined> {
    const statement = served === 'legacy' ? legacyRead(this.#c.shape, key) : shadowRead(this.#c.shape, key)
    try {
      const started = process.hrtime.bigint()
      const rows = await this.#timed('read', served, () => executor.query<Row>(statement.text, statement.values))
      this.#c.guardrail?.observeRead(served, Number(process.hrtime.bigint() - started) / 1e9)
      this.#c.instruments.reads.inc({ migration: this.name, served_from: served })
      this.#count('read', [served], 'ok')
      return rows[0]
    } catch (error) {
      this.#count('read', [served], 'error')
      // A failing non-authoritative read never fails the caller: serve the authoritative side.
      if (served === authority) throw error
      this.#c.logger.warn({ migration: this.name, err: error }, `${served} read failed; served from ${authority}`)
      return this.#plainGet(executor, key, authority, authority)
    }
  }

  async #comparedGet(executor: SqlExecutor, key: unknown[], served: Side, authority: Side, inCallerTx: boolean): Promise<Row | undefined | 'failed'> {
    const statement = comparedRead(this.#c.shape, key)
    let rows: Row[]
    try {
      // Inside a caller's transaction a failed comparison must not abort it.
      // Not timed by side: the statement reads both, and would blur the shadow-vs-legacy latency the guardrail judges.
      rows = inCallerTx ? await this.#inSavepoint(executor, statement) : await executor.query<Row>(statement.text, statement.values)
    } catch (error) {
      this.#c.instruments.comparisons.inc({ migration: this.name, source: 'read', result: 'error' })
      this.#c.logger.warn({ migration: this.name, err: error }, 'compared read failed; serving without comparison')
      return 'failed'
    }
    const sides: Partial<Record<Side, SideRow>> = {}
    for (const raw of rows) {
      const { [SIDE_COLUMN]: side, [COMPARE_COLUMN]: comparable, ...row } = raw
      sides[side === 'shadow' ? 'shadow' : 'legacy'] = { row, comparable: comparableRow(this.#c.shape, comparable) }
    }
    const verdict = judge(sides.legacy, sides.shadow)
    this.#c.instruments.comparisons.inc({ migration: this.name, source: 'read', result: verdict.result })
    this.#c.instruments.reads.inc({ migration: this.name, served_from: verdict.result === 'match' ? served : authority })
    if (verdict.result === 'mismatch' && verdict.kind) {
      this.#c.instruments.divergences.inc({ migration: this.name, source: 'read' })
      this.#c.guardrail?.observeDivergence()
      const keyObject = Object.fromEntries(this.#c.shape.legacyKey.map((k, i) => [k, keyText(key[i])]))
      const record = recordDivergenceSql(this.#c.schema, {
        migration: this.name, key: keyObject, source: 'read', kind: verdict.kind,
        legacyHash: verdict.legacyHash, shadowHash: verdict.shadowHash,
        legacyRow: sides.legacy?.comparable ?? null, shadowRow: sides.shadow?.comparable ?? null,
      })
      this.#c.background(
        this.#c.executor.query<{ inserted: boolean }>(record.text, record.values).then((r) => {
          if (r[0]?.inserted) this.#c.logger.warn({ migration: this.name, key: keyObject, kind: verdict.kind }, 'read comparison found a divergence')
        }),
      )
      return sides[authority]?.row
    }
    return sides[served]?.row ?? sides[authority]?.row
  }

  async #inSavepoint(executor: SqlExecutor, statement: Statement): Promise<Row[]> {
    return withSavepoint(executor, 'cutover_op', () => executor.query<Row>(statement.text, statement.values))
  }

  async #write(operation: 'insert' | 'update' | 'upsert' | 'delete', request: WriteRequest, options: CallOptions): Promise<Row[]> {
    const state = this.state
    const policy = phasePolicy(state.phase)
    const targets: WriteTargets = { authority: policy.writes[0] as Side, secondary: policy.writes[1] }
    const executor = this.#executorFor(options)
    const statement = writeStatement(this.#c.shape, targets, request, { controlSchema: this.#c.schema })
    const recordMode = targets.secondary !== undefined && this.#c.shape.definition.onSecondaryError === 'record'
    try {
      const rows = recordMode && options.tx
        ? await this.#timed(operation, targets.authority, () => this.#inSavepoint(executor, statement))
        : await this.#timed(operation, targets.authority, () => executor.query<Row>(statement.text, statement.values))
      this.#count(operation, policy.writes, 'ok')
      return rows
    } catch (error) {
      if (!recordMode || !isConstraintViolation(error)) {
        this.#count(operation, policy.writes, 'error')
        throw error
      }
      // The secondary side (or the authoritative one: the retry tells) rejected the row.
        const fallback = writeStatement(this.#c.shape, targets, request, {
        divergence: { table: `${controlSchema(this.#c.schema).quoted}.divergences`, migration: this.name, detail: serverMessage(error) },
      })
      const rows = await this.#timed(operation, targets.authority, () => executor.query<Row>(fallback.text, fallback.values)).catch((retryError: unknown) => {
        this.#count(operation, [targets.authority], 'error')
        throw retryError
      })
      this.#count(operation, [targets.authority], 'ok')
      this.#count(operation, [targets.secondary as Side], 'error')
      this.#c.instruments.divergences.inc({ migration: this.name, source: 'write' }, rows.length)
      for (let i = 0; i < rows.length; i++) this.#c.guardrail?.observeDivergence()
      this.#c.logger.warn({ migration: this.name, operation, err: error }, `${targets.secondary} rejected the write; recorded as a divergence for repair`)
      return rows
    }
  }

  #count(operation: string, targets: readonly Side[], result: 'ok' | 'error'): void {
    for (const target of targets) this.#c.instruments.operations.inc({ migration: this.name, operation, target, result })
  }

  async #timed<T>(operation: string, target: Side, work: () => Promise<T>): Promise<T> {
    const end = this.#c.instruments.operationDuration.startTimer({ migration: this.name, operation, target })
    try {
      return await work()
    } finally {
      end()
    }
  }

  #keyValues(key: Key): unknown[] {
    const columns = this.#c.shape.legacyKey
    if (typeof key !== 'object' || key === null) {
      if (columns.length !== 1) throw new ConfigInvalid(this.name, `the key has ${columns.length} columns (${columns.join(', ')}); pass an object with each of them`)
      return [key]
    }
    return columns.map((c) => {
      if (!Object.hasOwn(key, c) || key[c] === undefined || key[c] === null) throw new ConfigInvalid(this.name, `key column "${c}" is missing; pass { ${columns.map((k) => `${k}: …`).join(', ')} }`)
      return key[c]
    })
  }

  #requireColumns(row: Row, operation: string): void {
    const known = new Set(this.#c.shape.legacyColumns.map((c) => c.name))
    const unknown = Object.keys(row).find((c) => !known.has(c))
    if (unknown !== undefined) throw new ConfigInvalid(this.name, `${operation}: "${unknown}" is not a column of the legacy table; rows are written in the legacy shape`)
  }
}
