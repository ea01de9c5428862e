/** The entry point applications use: connect once, get a DAL per migration, follow state changes live. */
import client from 'prom-client'
import { ConfigInvalid } from '../core/errors.js'
import type { MigrationState } from '../core/phases.js'
import { RoutingSample } from '../core/routing-sample.js'
import type { UnleashProvider } from '../flags/unleash-provider.js'
import { createLogger, type Logger } from '../logger.js'
import { instrumentsFor, migrationInstruments, type Instruments } from '../metrics/instruments.js'
import { BypassWriteExport, DEFAULT_BYPASS_EXPORT_MS } from '../metrics/bypass-write-export.js'
import { DEFAULT_SCHEMA } from '../store/control-schema/apply-control-schema.js'
import { StateWatcher } from '../store/state/state-watcher.js'
import { readTarget } from '../store/groups/group-target.js'
import { ComparisonQueue } from '../dal/comparison-queue.js'
import { executorFor } from '../dal/executor.js'
import { GroupDal } from '../dal/group-dal.js'
import { Guardrail } from '../dal/guardrail.js'
import { MigrationDal } from '../dal/migration-dal.js'
import { readPipelineFor } from '../dal/read-pipeline-for.js'
import { StatementPolicy } from '../dal/statement-policy.js'
import type { TableName } from '../dal/table-types.js'
import { BackgroundWork } from './background-work.js'
import { checkCutoverOptions, DEFAULT_COMPARISONS_IN_FLIGHT, type CutoverOptions } from './cutover-options.js'
import { DalCache } from './dal-cache.js'
import { FlagProviderChoice } from './flag-provider-choice.js'
import { guardrailRollback } from './guardrail-rollback.js'
import { LoadedDefinitions, type LoadedDefinition } from './loaded-definitions.js'
import { migrationRoute } from './migration-route.js'
import { ProcessMetrics } from './process-metrics.js'

export type { CutoverOptions } from './cutover-options.js'

/**
 * `DB`: the application's Kysely database type (`Cutover.connect<DB>(…)`), so
 * that `migration<'legacy_table'>(name)` hands out a DAL checked against that
 * table's row types. Without it (or without the table) rows are untyped.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class Cutover<DB = any> {
  readonly #options: CutoverOptions
  readonly #watcher: StateWatcher
  readonly #instruments: Instruments
  readonly #metrics: ProcessMetrics
  readonly #logger: Logger
  readonly #dals = new DalCache<MigrationDal>((name) => this.#createDal(name))
  readonly #groups = new DalCache<GroupDal>((name) => this.#createGroup(name))
  readonly #providers = new FlagProviderChoice()
  readonly #definitions: LoadedDefinitions
  readonly #background = new BackgroundWork()
  readonly #guardrails = new Set<Guardrail>()
  readonly #routingSample = new RoutingSample()
  readonly #statements: StatementPolicy
  readonly #comparisons: ComparisonQueue
  readonly #bypassWrites: BypassWriteExport
  readonly schema: string

  private constructor(options: CutoverOptions) {
    this.#options = options
    this.schema = options.schema ?? DEFAULT_SCHEMA
    this.#instruments = instrumentsFor(options.registry ?? client.register)
    this.#logger = options.logger ?? createLogger()
    this.#metrics = new ProcessMetrics(this.#instruments, this.#logger)
    this.#statements = new StatementPolicy(options.statementMode ?? 'auto', {
      logger: this.#logger,
      maxPrepared: options.maxPreparedStatements,
    })
    this.#bypassWrites = new BypassWriteExport({
      db: options.pool,
      schema: this.schema,
      instruments: this.#instruments,
      logger: this.#logger,
    })
    this.#comparisons = new ComparisonQueue(options.comparisons?.maxInFlight ?? DEFAULT_COMPARISONS_IN_FLIGHT)
    this.#watcher = new StateWatcher({
      pool: options.pool,
      schema: this.schema,
      logger: this.#logger,
      fallbackPollMs: options.fallbackPollMs,
      listenUrl: options.listenUrl,
      listen: options.listen,
      onListening: (isListening) => this.#instruments.stateListening.set(isListening ? 1 : 0),
      onApply: (migration, state, propagation, definitionVersion) =>
        this.#onApply(migration, state, propagation, definitionVersion),
      routingSample: () => this.#routingSample.snapshot(),
    })
    this.#definitions = new LoadedDefinitions({
      pool: options.pool,
      schema: this.schema,
      logger: this.#logger,
      providers: this.#providers,
      instanceId: () => this.#watcher.instanceId,
    })
  }

  /** Loads every migration's state and starts following changes. Throws when the database cannot be read. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  static async connect<DB = any>(options: CutoverOptions): Promise<Cutover<DB>> {
    checkCutoverOptions(options)
    const cutover = new Cutover<DB>(options)
    await cutover.#statements.detectPooler(options.pool)
    await cutover.#watcher.start()
    cutover.#bypassWrites.start(options.bypassMetricsIntervalMs ?? DEFAULT_BYPASS_EXPORT_MS)
    await cutover.#providers.connect(options.unleash, cutover.#logger)
    return cutover
  }

  /**
   * The DAL of one registered migration (its definition is read from the control schema once).
   * `TB`, the legacy table's name in `DB`, types its rows: `migration<'users'>('users_v2')`.
   */
  async migration<TB extends TableName<DB> = never>(name: string): Promise<MigrationDal<DB, TB>> {
    return this.#dals.get(name) as Promise<MigrationDal<DB, TB>>
  }

  /**
   * The DAL of a migration group: its members' DALs and selects that join
   * members, every table read from one side. Membership is read once here.
   */
  async group(name: string): Promise<GroupDal> {
    return this.#groups.get(name)
  }

  async #createGroup(name: string): Promise<GroupDal> {
    const target = await readTarget(this.#options.pool, this.schema, name)
    const names = target.members
    if (target.group === undefined)
      throw new ConfigInvalid(
        undefined,
        `no migration group "${name}" is registered; declare it in the config's "groups" list and run: cutover register --config FILE`,
      )
    const members = new Map<string, MigrationDal>()
    for (const member of names) members.set(member, await this.migration(member))
    const loaded = names.map((member) => [member, this.#definitions.get(member) as LoadedDefinition] as const)
    const first = loaded[0]?.[1] as LoadedDefinition
    this.#metrics.zeroCounters(name)
    const logger = this.#logger.child({ group: name })
    return new GroupDal({
      name,
      members,
      loaded: new Map(loaded),
      state: (member) => this.#watcher.current(member),
      executor: executorFor(this.#options.pool, this.#statements),
      statements: this.#statements,
      logger,
      reads: readPipelineFor({
        name,
        instruments: migrationInstruments(this.#instruments, name),
        logger,
        executor: executorFor(this.#options.pool, this.#statements),
        random: this.#options.random ?? Math.random,
        comparisonMode: this.#options.comparisons?.mode,
        comparisons: this.#comparisons,
        background: this.#background.tracker((error) =>
          logger.warn({ group: name, err: error }, 'background work failed'),
        ),
        // The group's first member (by name) sets the compare samples of its joined reads.
        definition: () => first.shape.definition,
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
    return this.#providers.unleash
  }

  /** Reads the bypass net's totals into cutover_bypass_writes_total now (it also happens every bypassMetricsIntervalMs). */
  refreshBypassWrites(): Promise<void> {
    return this.#bypassWrites.refresh()
  }

  /** Waits for side work started so far: background comparisons, divergence rows, guardrail rollbacks. */
  async flush(): Promise<void> {
    await this.#comparisons.drain()
    await Promise.allSettled([...this.#background.pending(), ...[...this.#guardrails].map((g) => g.settled())])
  }

  async close(): Promise<void> {
    await this.#bypassWrites.stop()
    await this.flush()
    await this.#watcher.stop()
    await this.#providers.close()
  }

  async #createDal(name: string): Promise<MigrationDal> {
    const fetched = await this.#definitions.fetch(name)
    this.#metrics.zeroCounters(name)
    const loaded = this.#definitions.adopt(name, fetched)
    const logger = this.#logger.child({ migration: name })
    const guardrail = new Guardrail({
      migration: name,
      // Read through the loaded definition, like the shape: a re-registered definition's bounds apply at once.
      get config() {
        return loaded.shape.definition.guardrails
      },
      instruments: this.#instruments,
      logger,
      state: () => this.#watcher.current(name),
      rollback: guardrailRollback(this.#options.pool, this.schema, name, logger),
    })
    this.#guardrails.add(guardrail)
    return new MigrationDal({
      // A getter: a changed definition (cutover register) replaces the shape every statement is built from.
      get shape() {
        return loaded.shape
      },
      guardrail,
      schema: this.schema,
      // Statements outside a caller's transaction go through the pool (named or not, as the policy says).
      executor: executorFor(this.#options.pool, this.#statements),
      statements: this.#statements,
      instruments: this.#instruments,
      logger,
      state: () => this.#watcher.current(name),
      route: migrationRoute(name, loaded, this.#routingSample),
      random: this.#options.random ?? Math.random,
      comparisonMode: this.#options.comparisons?.mode ?? 'background',
      checkWriteRoundTrip: this.#options.checkWriteRoundTrip ?? true,
      comparisons: this.#comparisons,
      background: this.#background.tracker((error) =>
        this.#logger.warn({ migration: name, err: error }, 'background write failed'),
      ),
    })
  }

  #onApply(
    migration: string,
    state: MigrationState,
    propagationSeconds: number | undefined,
    definitionVersion: number | undefined,
  ): Promise<void> | undefined {
    this.#metrics.applied(migration, state, propagationSeconds)
    return this.#definitions.follow(migration, definitionVersion, this.#dals.peek(migration))
  }
}
