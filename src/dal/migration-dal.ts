/**
 * The data-access layer for one migration: writes go where the current phase
 * says, in one statement; reads are routed by sticky percentage and a sample
 * is compared with the other side. Rows go in and come out in the legacy shape.
 */
import { defaultRoutingKey } from '../core/routing.js'
import { ConfigInvalid } from '../core/errors.js'
import { phasePolicy, UNKNOWN_STATE, type MigrationState, type Side } from '../core/phases.js'
import { migrationInstruments, type MigrationInstruments } from '../metrics/instruments.js'
import type { DalContext } from './dal-context.js'
import { isConstraintViolation, serverMessage } from '../db/pg-errors.js'
import { controlSchema } from '../db/control-schema.js'
import { writeStatement, type Returning, type WriteRequest, type WriteTargets } from './dual-write-statement.js'
import { ROUND_TRIP_COLUMN } from './round-trip-check-sql.js'
import { takeRoundTrip } from './round-trip-writes.js'
import type { Database, SqlExecutor } from './executor.js'
import { KeyReads } from './key-read-plan.js'
import { legacyColumnNames, type MigrationShape } from '../shape/migration-shape.js'
import { callerExecutor } from './caller-executor.js'
import { compileOnlyKysely } from './query-compiler.js'
import { inSavepoint, type ReadPipeline, type Row } from './read-pipeline.js'
import { readPipelineFor } from './read-pipeline-for.js'
import { selectPlan, selectServedSide } from './routed-select.js'
import type { SelectBuilder } from './select-statement.js'
import { WriteStatementCache } from './write-statement-cache.js'
import type {
  InsertRow,
  KeyColumns,
  SelectedRow,
  TableKey,
  TableName,
  TableSelectBuilder,
  UpdatePatch,
} from './table-types.js'

export type { Row } from './read-pipeline.js'

/** PostgreSQL's limit on parameters in one statement. */
const MAX_PARAMETERS = 65_535
/** A key: an object of legacy key column to value, or the bare value of a one-column key. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Key = TableKey<any, never>

export interface CallOptions {
  /** A transaction the caller holds (Kysely transaction or pg client); the operation runs inside it. */
  readonly tx?: Database
}

/**
 * What a write resolves to: the written row in the legacy shape (`true`, the
 * default), its legacy key columns only (`'key'`), or nothing (`false`: the
 * statement returns one count row and the call resolves to undefined).
 */
export interface WriteOptions extends CallOptions {
  readonly returning?: boolean | 'key'
}

function returningOf(options: WriteOptions): Returning {
  return options.returning === false ? 'none' : options.returning === 'key' ? 'key' : 'row'
}

export interface ReadOptions extends CallOptions {
  /** What sticky routing hashes (a user or tenant id); default: the row key. */
  readonly routingKey?: string
}

/** The statements built from one shape of the migration. */
interface ShapeStatements {
  readonly shape: MigrationShape
  readonly keyReads: KeyReads
  readonly writes: WriteStatementCache
}

/**
 * `DB` and `TB`: the application's Kysely database type and the legacy table's
 * name in it (`cutover.migration<'users'>('users_v2')` on a `Cutover<DB>`);
 * rows are then checked against that table's Kysely types. Without them rows
 * are `Record<string, unknown>`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class MigrationDal<DB = any, TB extends TableName<DB> = never> {
  readonly #c: DalContext
  readonly #kysely = compileOnlyKysely()
  readonly #m: MigrationInstruments
  readonly #reads: ReadPipeline
  /** Statements built once per shape; rebuilt when a changed definition replaces the shape. */
  #statements: ShapeStatements
  readonly name: string

  constructor(context: DalContext) {
    this.#c = context
    this.name = context.shape.definition.name
    this.#m = migrationInstruments(context.instruments, this.name)
    this.#statements = this.#build(context.shape)
    const { logger, guardrail, executor, random, comparisonMode, comparisons, background } = context
    this.#reads = readPipelineFor({
      name: this.name,
      instruments: this.#m,
      logger,
      guardrail,
      executor,
      random,
      comparisonMode,
      comparisons,
      background,
      definition: () => context.shape.definition,
    })
  }

  #build(shape: MigrationShape): ShapeStatements {
    return {
      shape,
      keyReads: new KeyReads({ shape, schema: this.#c.schema, logger: this.#c.logger }),
      writes: new WriteStatementCache(shape, this.#c.schema, this.#c.checkWriteRoundTrip ?? true),
    }
  }

  /** The statements of the current shape (one reference comparison per call). */
  private get statements(): ShapeStatements {
    if (this.#statements.shape !== this.#c.shape) this.#statements = this.#build(this.#c.shape)
    return this.#statements
  }

  /** The state this process applies now (legacy-only `off` when none is known). */
  get state(): MigrationState {
    return this.#c.state() ?? UNKNOWN_STATE
  }

  insert(row: InsertRow<DB, TB>, options?: WriteOptions & { readonly returning?: true }): Promise<SelectedRow<DB, TB>>
  insert(row: InsertRow<DB, TB>, options: WriteOptions & { readonly returning: 'key' }): Promise<KeyColumns<DB, TB>>
  insert(row: InsertRow<DB, TB>, options: WriteOptions & { readonly returning: false }): Promise<undefined>
  async insert(row: InsertRow<DB, TB>, options: WriteOptions = {}): Promise<Row | undefined> {
    this.#requireColumns(row as Row, 'insert')
    const rows = await this.#write('insert', { op: 'insert', rows: [row as Row] }, options)
    return options.returning === false ? undefined : (rows[0] as Row)
  }

  /** Inserts a batch in one statement: all rows on both sides, or none. */
  insertMany(
    rows: readonly InsertRow<DB, TB>[],
    options?: WriteOptions & { readonly returning?: true },
  ): Promise<SelectedRow<DB, TB>[]>
  insertMany(
    rows: readonly InsertRow<DB, TB>[],
    options: WriteOptions & { readonly returning: 'key' },
  ): Promise<KeyColumns<DB, TB>[]>
  insertMany(
    rows: readonly InsertRow<DB, TB>[],
    options: WriteOptions & { readonly returning: false },
  ): Promise<undefined>
  async insertMany(typedRows: readonly InsertRow<DB, TB>[], options: WriteOptions = {}): Promise<Row[] | undefined> {
    const rows = typedRows as readonly Row[]
    if (rows.length === 0) return options.returning === false ? undefined : []
    for (const row of rows) this.#requireColumns(row, 'insertMany')
    const columns = new Set(rows.flatMap((r) => Object.keys(r))).size
    if (rows.length * columns > MAX_PARAMETERS) {
      throw new ConfigInvalid(
        this.name,
        `insertMany of ${rows.length} rows × ${columns} columns exceeds PostgreSQL's ${MAX_PARAMETERS} parameters per statement; split it into batches of at most ${Math.floor(MAX_PARAMETERS / columns)} rows`,
      )
    }
    const written = await this.#write('insert', { op: 'insert', rows }, options)
    return options.returning === false ? undefined : written
  }

  async update(
    key: TableKey<DB, TB>,
    typedPatch: UpdatePatch<DB, TB>,
    options: WriteOptions = {},
  ): Promise<SelectedRow<DB, TB> | undefined> {
    const patch = typedPatch as Row
    const columns = Object.keys(patch)
    if (columns.length === 0) throw new ConfigInvalid(this.name, 'update needs at least one column to change')
    const keyColumn = columns.find((c) => this.#c.shape.legacyKey.includes(c))
    if (keyColumn)
      throw new ConfigInvalid(
        this.name,
        `update cannot change key column "${keyColumn}"; delete the row and insert it under the new key`,
      )
    this.#requireColumns(patch, 'update')
    const rows = await this.#write('update', { op: 'update', key: this.#keyValues(key), patch }, options)
    return options.returning === false ? undefined : (rows[0] as SelectedRow<DB, TB> | undefined)
  }

  upsert(row: InsertRow<DB, TB>, options?: WriteOptions & { readonly returning?: true }): Promise<SelectedRow<DB, TB>>
  upsert(row: InsertRow<DB, TB>, options: WriteOptions & { readonly returning: 'key' }): Promise<KeyColumns<DB, TB>>
  upsert(row: InsertRow<DB, TB>, options: WriteOptions & { readonly returning: false }): Promise<undefined>
  async upsert(typedRow: InsertRow<DB, TB>, options: WriteOptions = {}): Promise<Row | undefined> {
    const row = typedRow as Row
    this.#requireColumns(row, 'upsert')
    this.#keyValues(row)
    const rows = await this.#write('upsert', { op: 'upsert', rows: [row] }, options)
    return options.returning === false ? undefined : (rows[0] as Row)
  }

  async delete(key: TableKey<DB, TB>, options: WriteOptions = {}): Promise<SelectedRow<DB, TB> | undefined> {
    const rows = await this.#write('delete', { op: 'delete', key: this.#keyValues(key) }, options)
    return options.returning === false ? undefined : (rows[0] as SelectedRow<DB, TB> | undefined)
  }

  /**
   * A read of any shape, written as a Kysely select over the legacy table
   * (`from` is `selectFrom` on it, aliased as its name); routed to the shadow
   * through `backward` when routing says so. Without `routingKey` it reads
   * the shadow only at 100 % (or once the shadow is authoritative).
   */
  async select<R = SelectedRow<DB, TB>>(build: TableSelectBuilder<R, DB, TB>, options: ReadOptions = {}): Promise<R[]> {
    const state = this.state
    const served = selectServedSide(this.#c, state, options.routingKey)
    const executor = this.#executorFor(options)
    return this.#reads.run(
      selectPlan(this.#c, this.#kysely, build as SelectBuilder<R>),
      state,
      served,
      executor,
      options.tx !== undefined,
    )
  }

  /**
   * The side a read of `routingKey` is served from now (what `get` and a keyed
   * `select` do); for a group's member, the same side as every other member's.
   */
  sideFor(routingKey: string): Side {
    return this.#c.route(this.state, routingKey)
  }

  /** Reads one row by key, from the side routing picks; a sample is compared with the other side. */
  async get(key: TableKey<DB, TB>, options: ReadOptions = {}): Promise<SelectedRow<DB, TB> | undefined> {
    const values = this.#keyValues(key)
    const state = this.state
    const served = this.#c.route(state, options.routingKey ?? defaultRoutingKey(values))
    const executor = this.#executorFor(options)
    const row = await this.#reads.run(
      this.statements.keyReads.plan(values),
      state,
      served,
      executor,
      options.tx !== undefined,
    )
    return row as SelectedRow<DB, TB> | undefined
  }

  /** The pool's executor, or one on the caller's transaction (refused when it is none). */
  #executorFor(options: CallOptions): SqlExecutor {
    return callerExecutor(this.name, options.tx, this.#c.executor, this.#c.statements)
  }

  async #write(
    operation: 'insert' | 'update' | 'upsert' | 'delete',
    request: WriteRequest,
    options: WriteOptions,
  ): Promise<Row[]> {
    const state = this.state
    const policy = phasePolicy(state.phase)
    const targets: WriteTargets = { authority: policy.writes[0] as Side, secondary: policy.writes[1] }
    const executor = this.#executorFor(options)
    const returning = returningOf(options)
    const statement = this.statements.writes.statement(targets, request, returning)
    const recordMode = targets.secondary !== undefined && this.#c.shape.definition.onSecondaryError === 'record'
    try {
      const rows =
        recordMode && options.tx
          ? await this.#timed(operation, targets.authority, () => inSavepoint<Row>(executor, statement))
          : await this.#timed(operation, targets.authority, () =>
              executor.query<Row>(statement.text, statement.values, statement.name),
            )
      this.#count(operation, policy.writes, 'ok')
      if (rows[0] !== undefined && Object.hasOwn(rows[0], ROUND_TRIP_COLUMN))
        takeRoundTrip(rows, { ...this.#c, migration: this.name, counter: this.#m.roundTripWrites[operation] })
      return rows
    } catch (error) {
      if (!recordMode || !isConstraintViolation(error)) {
        this.#count(operation, policy.writes, 'error')
        throw error
      }
      // The secondary side (or the authoritative one: the retry tells) rejected the row.
      const fallback = writeStatement(this.#c.shape, targets, request, {
        divergence: {
          table: `${controlSchema(this.#c.schema).quoted}.divergences`,
          migration: this.name,
          detail: serverMessage(error),
        },
        returning,
      })
      const rows = await this.#timed(operation, targets.authority, () =>
        executor.query<Row>(fallback.text, fallback.values),
      ).catch((retryError: unknown) => {
        this.#count(operation, [targets.authority], 'error')
        throw retryError
      })
      this.#count(operation, [targets.authority], 'ok')
      this.#count(operation, [targets.secondary as Side], 'error')
      const written = returning === 'none' ? Number(rows[0]?.__cutover_written ?? 0) : rows.length
      this.#m.divergences.write.inc(written)
      for (let i = 0; i < written; i++) this.#c.guardrail?.observeDivergence()
      this.#c.logger.warn(
        { migration: this.name, operation, err: error },
        `${targets.secondary} rejected the write; recorded as a divergence for repair`,
      )
      return rows
    }
  }

  #count(operation: 'insert' | 'update' | 'upsert' | 'delete', targets: readonly Side[], result: 'ok' | 'error'): void {
    for (const target of targets) this.#m.writeResults[operation][target][result].inc()
  }

  async #timed<T>(
    operation: 'insert' | 'update' | 'upsert' | 'delete',
    target: Side,
    work: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now()
    try {
      return await work()
    } finally {
      this.#m.writeDuration[operation][target].observe((performance.now() - started) / 1000)
    }
  }

  #keyValues(key: Key): unknown[] {
    const columns = this.#c.shape.legacyKey
    if (typeof key !== 'object' || key === null) {
      if (columns.length !== 1)
        throw new ConfigInvalid(
          this.name,
          `the key has ${columns.length} columns (${columns.join(', ')}); pass an object with each of them`,
        )
      return [key]
    }
    return columns.map((c) => {
      if (!Object.hasOwn(key, c) || key[c] === undefined || key[c] === null)
        throw new ConfigInvalid(
          this.name,
          `key column "${c}" is missing; pass { ${columns.map((k) => `${k}: …`).join(', ')} }`,
        )
      return key[c]
    })
  }

  #requireColumns(row: Row, operation: string): void {
    const known = legacyColumnNames(this.#c.shape)
    let unknown: string | undefined
    for (const column of Object.keys(row)) {
      if (!known.has(column)) {
        unknown = column
        break
      }
    }
    if (unknown !== undefined)
      throw new ConfigInvalid(
        this.name,
        `${operation}: "${unknown}" is not a column of the legacy table; rows are written in the legacy shape`,
      )
  }
}
