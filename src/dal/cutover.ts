/** The entry point applications use: connect once, get a DAL per migration, follow state changes live. */
import type pg from 'pg'
import client, { type Registry } from 'prom-client'
import type { MigrationDefinition } from '../core/definition.js'
import { ConfigInvalid } from '../core/errors.js'
import { PHASES, type MigrationState } from '../core/phases.js'
import { RoutingSample } from '../core/routing-sample.js'
import { controlProvider } from '../flags/control-provider.js'
import type { PercentageProvider } from '../flags/percentage-provider.js'
import { defaultToggleName, toggleName } from '../flags/toggle-name.js'
import { UnleashProvider, type UnleashOptions } from '../flags/unleash-provider.js'
import { createLogger, type Logger } from '../logger.js'
import { COMPARISON_RESULTS, instrumentsFor, type Instruments } from '../metrics/instruments.js'
import { BypassWriteExport, DEFAULT_BYPASS_EXPORT_MS } from '../metrics/bypass-write-export.js'
import { DEFAULT_SCHEMA } from '../store/control-schema/apply-control-schema.js'
import { loadMigration } from '../store/definitions/definitions.js'
import { StateWatcher } from '../store/state/state-watcher.js'
import { hostname } from 'node:os'
import { rollback } from '../actions/rollback.js'
import { ComparisonQueue } from './comparison-queue.js'
import { executorFor } from './executor.js'
import { Guardrail } from './guardrail.js'
import { MigrationDal } from './migration-dal.js'
import type { TableName } from './table-types.js'
import { migrationShape, type MigrationShape } from '../shape/migration-shape.js'
import { recordLoadedDefinition } from '../store/state/loaded-definition-sql.js'
import { STATEMENT_MODES, StatementPolicy, type StatementMode } from './statement-policy.js'
import type { ComparisonMode } from './read-pipeline.js'
import { withClient } from '../db/with-client.js'
import { readGroupMembers } from '../store/groups/group-members-sql.js'
import { migrationInstruments } from '../metrics/instruments.js'
import { GroupDal } from './group-dal.js'
import { ReadPipeline } from './read-pipeline.js'

export interface CutoverOptions {
  /**
   * A pg pool on the application's database. The DAL's statements run on it (as named prepared
   * statements) unless a call passes `{ tx }`; the dedicated LISTEN connection copies its settings.
   * With Kysely, pass the pool your PostgresDialect wraps.
   */
  readonly pool: pg.Pool
  /** Control schema name; default `cutover`. */
  readonly schema?: string
  /** prom-client registry; default the global one. Instruments are registered once per registry. */
  readonly registry?: Registry
  readonly logger?: Logger
  /** Random source for comparison sampling (inject for tests). */
  readonly random?: () => number
  /** Poll period while this process is not proven to hear notifications; default 500 ms (at most 500). */
  readonly fallbackPollMs?: number
  /** How often the bypass net's totals are read into cutover_bypass_writes_total (default 15 s; 0: once at connect). */
  readonly bypassMetricsIntervalMs?: number
  /**
   * Named prepared statements or unnamed ones (see "Behind a connection pooler" in the README).
   * Default `auto`: named, unless a pooler is detected at connect or a prepared statement goes
   * missing later (then unnamed for good, said once in the log, the statement retried).
   */
  readonly statementMode?: StatementMode
  /** In named mode, the most DAL statements kept prepared per server connection; default 100 (least recently used are deallocated). */
  readonly maxPreparedStatements?: number
  /**
   * A direct connection string (not through a transaction pooler) for the one LISTEN connection,
   * like an ORM's `directUrl`. Default: the pool's own settings. Whatever it is, the process proves
   * it hears by notifying itself, and polls the state every 500 ms while it does not.
   */
  readonly listenUrl?: string
  /** false: hold no LISTEN connection at all and follow state by polling (every `fallbackPollMs`). Default true. */
  readonly listen?: boolean
  /**
   * Whether each DAL write judges, in its own statement, whether its row would read back different through
   * backward(forward(row)) (counted in `cutover_round_trip_writes_total`, recorded as a write divergence). Default
   * true; false leaves the check out of the statements (the bench measures its cost this way).
   */
  readonly checkWriteRoundTrip?: boolean
  /**
   * Unleash, for migrations whose definition says `routing.provider: "unleash"`: in `ramp`
   * their read percentage comes from the toggle's flexibleRollout (token: `token`, else env
   * `UNLEASH_API_TOKEN`). The phase still comes from the control schema, so a rollback wins.
   */
  readonly unleash?: UnleashOptions
  /**
   * How sampled reads are compared with the other side (README, "Comparison modes").
   * `mode`: `background` (default) returns the routed side's row at once and compares on the
   * pool afterwards; `inline` compares in the call and serves the authoritative row on a mismatch.
   * `maxInFlight`: background comparisons running at once in this process (default 2); one more
   * is dropped and counted as `cutover_comparisons_total{result="skipped"}`.
   */
  readonly comparisons?: { readonly mode?: ComparisonMode; readonly maxInFlight?: number }
}

const DEFAULT_COMPARISONS_IN_FLIGHT = 2

/** The definition a DAL works with now; replaced in place when a changed one is registered. */
interface LoadedDefinition {
  shape: MigrationShape
  provider: PercentageProvider
  definitionVersion: number
  /** Reloads run one after another. */
  reloading: Promise<void>
}

/**
 * `DB`: the application's Kysely database type (`Cutover.connect<DB>(…)`), so
 * that `migration<'legacy_table'>(name)` hands out a DAL checked against that
 * table's row types. Without it (or without the table) rows are untyped.
 */
export class Cutover<DB = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly #options: CutoverOptions
  readonly #watcher: StateWatcher
  readonly #instruments: Instruments
  readonly #logger: Logger
  readonly #dals = new Map<string, Promise<MigrationDal>>()
  readonly #groups = new Map<string, Promise<GroupDal>>()
  readonly #loaded = new Map<string, LoadedDefinition>()
  readonly #pending = new Set<Promise<unknown>>()
  readonly #guardrails = new Set<Guardrail>()
  readonly #toggles = new Map<string, string>()
  readonly #routingSample = new RoutingSample()
  readonly #statements: StatementPolicy
  readonly #comparisons: ComparisonQueue
  #unleash: UnleashProvider | undefined
  readonly #bypassWrites: BypassWriteExport
  readonly schema: string

  private constructor(options: CutoverOptions) {
    this.#options = options
    this.schema = options.schema ?? DEFAULT_SCHEMA
    this.#instruments = instrumentsFor(options.registry ?? client.register)
    this.#logger = options.logger ?? createLogger()
    this.#statements = new StatementPolicy(options.statementMode ?? 'auto', { logger: this.#logger, maxPrepared: options.maxPreparedStatements })
    this.#bypassWrites = new BypassWriteExport({ db: options.pool, schema: this.schema, instruments: this.#instruments, logger: this.#logger })
    this.#comparisons = new ComparisonQueue(options.comparisons?.maxInFlight ?? DEFAULT_COMPARISONS_IN_FLIGHT)
    this.#watcher = new StateWatcher({
      pool: options.pool,
      schema: this.schema,
      logger: this.#logger,
      fallbackPollMs: options.fallbackPollMs,
      listenUrl: options.listenUrl,
      listen: options.listen,
      onListening: (isListening) => this.#instruments.stateListening.set(isListening ? 1 : 0),
      onApply: (migration, state, propagation, definitionVersion) => this.#onApply(migration, state, propagation, definitionVersion),
      routingSample: () => this.#routingSample.snapshot(),
    })
  }

  /** Loads every migration's state and starts following changes. Throws when the database cannot be read. */
  static async connect<DB = any>(options: CutoverOptions): Promise<Cutover<DB>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (options.statementMode !== undefined && !STATEMENT_MODES.includes(options.statementMode)) {
      throw new ConfigInvalid(undefined, `statementMode "${String(options.statementMode)}" is not one of named, unnamed, auto; leave it out for auto`)
    }
    const cutover = new Cutover<DB>(options)
    await cutover.#statements.detectPooler(options.pool)
    await cutover.#watcher.start()
    cutover.#bypassWrites.start(options.bypassMetricsIntervalMs ?? DEFAULT_BYPASS_EXPORT_MS)
    if (options.unleash) {
      const unleash = new UnleashProvider({
        ...options.unleash,
        logger: cutover.#logger.child({ provider: 'unleash' }),
        toggleOf: (migration) => cutover.#toggles.get(migration) ?? defaultToggleName(migration),
      })
      cutover.#unleash = unleash
      // Not ready in time (or unreachable): ramp reads of Unleash-routed migrations go to legacy until it answers.
      await unleash.whenReady(options.unleash.readyTimeoutMs ?? 1000)
    }
    return cutover
  }

  /**
   * The DAL of one registered migration (its definition is read from the control schema once).
   * `TB`, the legacy table's name in `DB`, types its rows: `migration<'users'>('users_v2')`.
   */
  async migration<TB extends TableName<DB> = never>(name: string): Promise<MigrationDal<DB, TB>> {
    let dal = this.#dals.get(name)
    if (!dal) {
      dal = this.#createDal(name)
      this.#dals.set(name, dal)
      dal.catch(() => this.#dals.delete(name))
    }
    return dal as Promise<MigrationDal<DB, TB>>
  }

  /**
   * The DAL of a migration group: its members' DALs and selects that join
   * members, every table read from one side. Membership is read once here.
   */
  async group(name: string): Promise<GroupDal> {
    let dal = this.#groups.get(name)
    if (!dal) {
      dal = this.#createGroup(name)
      this.#groups.set(name, dal)
      dal.catch(() => this.#groups.delete(name))
    }
    return dal
  }

  async #createGroup(name: string): Promise<GroupDal> {
    const names = await readGroupMembers(this.#options.pool, this.schema, name)
    if (names.length === 0) throw new ConfigInvalid(undefined, `no migration group "${name}" is registered; declare it in the config's "groups" list and run: cutover register --config FILE`)
    const members = new Map<string, MigrationDal>()
    for (const member of names) members.set(member, await this.migration(member))
    const loaded = names.map((member) => [member, this.#loaded.get(member) as LoadedDefinition] as const)
    const first = loaded[0]?.[1] as LoadedDefinition
    this.#zeroCounters(name)
    const logger = this.#logger.child({ group: name })
    return new GroupDal({
      name,
      members,
      loaded: new Map(loaded),
      state: (member) => this.#watcher.current(member),
      executor: executorFor(this.#options.pool, this.#statements),
      statements: this.#statements,
      logger,
      reads: new ReadPipeline({
        name,
        instruments: migrationInstruments(this.#instruments, name),
        logger,
        pool: executorFor(this.#options.pool, this.#statements),
        random: this.#options.random ?? Math.random,
        mode: this.#options.comparisons?.mode ?? 'background',
        queue: this.#comparisons,
        background: (work) => {
          const tracked = work.catch((error: unknown) => logger.warn({ group: name, err: error }, 'background work failed'))
          this.#pending.add(tracked)
          void tracked.finally(() => this.#pending.delete(tracked))
        },
        // The group's first member (by name) sets the compare samples of its joined reads.
        sample: (state) => (state.phase === 'shadow_read' ? first.shape.definition.shadowReadSample : first.shape.definition.compareSample),
      }),
    })
  }

  /** The state this process currently applies for `name`. */
  state(name: string): MigrationState | undefined {
    return this.#watcher.current(name)
  }

  /** This process's id in the control schema's `instances` table. */
  get instanceId(): string {
    return this.#watcher.instanceId
  }

  /** The statement mode in force now: `named` or `unnamed` (auto has decided). */
  get statementMode(): 'named' | 'unnamed' {
    return this.#statements.isNamed ? 'named' : 'unnamed'
  }

  /** The state watcher, for drills and tests (`simulateListenerLoss`, `poll`). */
  get watcher(): StateWatcher {
    return this.#watcher
  }

  /** The Unleash provider when `unleash` was given, for drills and tests (`seen`). */
  get unleash(): UnleashProvider | undefined {
    return this.#unleash
  }

  /** Reads the bypass net's totals into cutover_bypass_writes_total now (it also happens every bypassMetricsIntervalMs). */
  refreshBypassWrites(): Promise<void> {
    return this.#bypassWrites.refresh()
  }

  /** Waits for side work started so far: background comparisons, divergence rows, guardrail rollbacks. */
  async flush(): Promise<void> {
    await this.#comparisons.drain()
    await Promise.allSettled([...this.#pending, ...[...this.#guardrails].map((g) => g.settled())])
  }

  async close(): Promise<void> {
    await this.#bypassWrites.stop()
    await this.flush()
    await this.#watcher.stop()
    await this.#unleash?.close()
  }

  async #createDal(name: string): Promise<MigrationDal> {
    // Retired is fine: in complete the DAL touches the shadow alone.
    const checked = await withClient(this.#options.pool, (client) => loadMigration(client, this.schema, name, { allowRetired: true }))
    const shape = migrationShape(checked)
    this.#zeroCounters(name)
    const loaded: LoadedDefinition = { shape, provider: this.#providerFor(shape.definition), definitionVersion: checked.definitionVersion, reloading: Promise.resolve() }
    this.#loaded.set(name, loaded)
    this.#recordLoaded(name, loaded.definitionVersion)
    const logger = this.#logger.child({ migration: name })
    const guardrail = new Guardrail({
      migration: name,
      // Read through the loaded definition, like the shape: a re-registered definition's bounds apply at once.
      get config() { return loaded.shape.definition.guardrails },
      instruments: this.#instruments,
      logger,
      state: () => this.#watcher.current(name),
      rollback: async (reason, details) => {
        const result = await rollback(this.#options.pool, {
          schema: this.schema, migration: name, actor: `guardrail@${hostname()}:${process.pid}`, reason, trigger: 'guardrail', details, ackTimeoutMs: 0, unleash: false,
        })
        if (result.bypassNet) logger.warn({ migration: name }, result.bypassNet)
        return result
      },
    })
    this.#guardrails.add(guardrail)
    return new MigrationDal({
      // A getter: a changed definition (cutover register) replaces the shape every statement is built from.
      get shape() { return loaded.shape },
      guardrail,
      schema: this.schema,
      // Statements outside a caller's transaction go through the pool (named or not, as the policy says).
      executor: executorFor(this.#options.pool, this.#statements),
      statements: this.#statements,
      instruments: this.#instruments,
      logger,
      state: () => this.#watcher.current(name),
      route: (state, routingKey) => {
        // A group's members share its bucket (its name), so a routing key reads every member from one side.
        const routingId = loaded.shape.definition.group ?? name
        // Ramp reads feed the sample `cutover ramp` uses to say how many keys a change moves.
        if (state.phase === 'ramp') this.#routingSample.record(routingId, routingKey)
        return loaded.provider.route(routingId, state, routingKey)
      },
      random: this.#options.random ?? Math.random,
      comparisonMode: this.#options.comparisons?.mode ?? 'background',
      checkWriteRoundTrip: this.#options.checkWriteRoundTrip ?? true,
      comparisons: this.#comparisons,
      background: (work) => {
        const tracked = work.catch((error: unknown) => this.#logger.warn({ migration: name, err: error }, 'background write failed'))
        this.#pending.add(tracked)
        void tracked.finally(() => this.#pending.delete(tracked))
      },
    })
  }

  /** Labelled counters exist from the start at 0, so `increase()` sees the first event too. */
  #zeroCounters(migration: string): void {
    const i = this.#instruments
    for (const source of ['read', 'write'] as const) i.divergences.inc({ migration, source }, 0)
    for (const result of COMPARISON_RESULTS) i.comparisons.inc({ migration, source: 'read', result }, 0)
    for (const trigger of ['manual', 'guardrail'] as const) i.rollbacks.inc({ migration, trigger }, 0)
    for (const side of ['legacy', 'shadow'] as const) {
      i.reads.inc({ migration, served_from: side }, 0)
      for (const result of ['ok', 'error'] as const) i.operations.inc({ migration, operation: 'read', target: side, result }, 0)
    }
  }

  #providerFor(definition: MigrationDefinition): PercentageProvider {
    if (definition.routing.provider === 'control') return controlProvider
    if (!this.#unleash) {
      throw new ConfigInvalid(definition.name, 'routes reads with Unleash (routing.provider "unleash") but Cutover.connect was given no unleash options; pass { unleash: { url } } (token from UNLEASH_API_TOKEN)')
    }
    this.#toggles.set(definition.name, toggleName(definition))
    return this.#unleash
  }

  /**
   * A state row carrying a newer definition version than this process's DAL
   * loaded: load it and apply it before the state is acknowledged. A definition
   * this DAL cannot follow live is refused with a logged reason, keeping the one
   * it has, and the state is not acknowledged (register and doctor name this process).
   */
  #followDefinition(name: string, definitionVersion: number | undefined): Promise<void> | undefined {
    const dal = this.#dals.get(name)
    const loaded = this.#loaded.get(name)
    if (definitionVersion === undefined || !dal || (loaded && loaded.definitionVersion >= definitionVersion)) return undefined
    return dal.then(() => {
      const current = this.#loaded.get(name) as LoadedDefinition
      current.reloading = current.reloading.catch(() => undefined).then(() => this.#reload(name, current, definitionVersion))
      return current.reloading
    }, () => undefined)
  }

  async #reload(name: string, loaded: LoadedDefinition, definitionVersion: number): Promise<void> {
    if (loaded.definitionVersion >= definitionVersion) return
    const logger = this.#logger.child({ migration: name })
    try {
      const checked = await withClient(this.#options.pool, (client) => loadMigration(client, this.schema, name, { allowRetired: true }))
      const shape = migrationShape(checked)
      const moved = (['legacyTable', 'shadowTable'] as const).find((k) => shape[k] !== loaded.shape[k])
        ?? (shape.legacyKey.join() !== loaded.shape.legacyKey.join() || shape.shadowKey.join() !== loaded.shape.shadowKey.join() ? 'key' : undefined)
      if (moved) throw new ConfigInvalid(name, `the new definition changes the ${moved === 'key' ? 'key columns' : moved === 'legacyTable' ? 'legacy table' : 'shadow table'}, which a running process does not follow; restart this process`)
      const provider = this.#providerFor(shape.definition)
      loaded.shape = shape
      loaded.provider = provider
      loaded.definitionVersion = checked.definitionVersion
      this.#recordLoaded(name, checked.definitionVersion)
      logger.info({ migration: name, definitionVersion: checked.definitionVersion }, 'loaded a changed definition; writes and reads use its mapping from now on')
    } catch (error) {
      logger.error({ migration: name, err: error, definitionVersion, keptDefinitionVersion: loaded.definitionVersion },
        `refused definition version ${definitionVersion}; this process keeps version ${loaded.definitionVersion} and does not acknowledge the change`)
      throw error
    }
  }

  #recordLoaded(name: string, definitionVersion: number): void {
    void recordLoadedDefinition(this.#options.pool, this.schema, this.#watcher.instanceId, name, definitionVersion)
      .catch((error: unknown) => this.#logger.debug({ migration: name, err: error }, 'could not record the loaded definition version'))
  }

  #onApply(migration: string, state: MigrationState, propagationSeconds: number | undefined, definitionVersion: number | undefined): Promise<void> | undefined {
    for (const phase of PHASES) this.#instruments.phase.set({ migration, phase }, phase === state.phase ? 1 : 0)
    this.#instruments.readPercent.set({ migration }, state.readPercent)
    if (propagationSeconds !== undefined) {
      this.#instruments.statePropagation.observe({ migration }, propagationSeconds)
      this.#logger.info({ migration, phase: state.phase, readPercent: state.readPercent, version: state.version, propagationSeconds }, 'applied a state change')
    }
    return this.#followDefinition(migration, definitionVersion)
  }
}
