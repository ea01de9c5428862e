/**
 * The definition each DAL of this process works with: read once from the
 * control schema, and replaced in place when a state row carries a newer
 * definition version (a changed definition was registered). Every version a
 * process loads is recorded against its instance, which is how `register` and
 * `doctor` name the processes that did not follow.
 */
import type pg from 'pg'
import { ConfigInvalid } from '../core/errors.js'
import type { PercentageProvider } from '../flags/percentage-provider.js'
import type { Logger } from '../logger.js'
import { migrationShape, type MigrationShape } from '../shape/migration-shape.js'
import { withClient } from '../db/with-client.js'
import { loadMigration } from '../store/definitions/definitions.js'
import { recordLoadedDefinition } from '../store/state/loaded-definition-sql.js'
import type { FlagProviderChoice } from './flag-provider-choice.js'

/** The definition a DAL works with now; replaced in place when a changed one is registered. */
export interface LoadedDefinition {
  shape: MigrationShape
  provider: PercentageProvider
  definitionVersion: number
  /** Reloads run one after another. */
  reloading: Promise<void>
}

/** A definition read from the control schema, not yet in use. */
export interface FetchedDefinition {
  readonly shape: MigrationShape
  readonly definitionVersion: number
}

export interface LoadedDefinitionsOptions {
  readonly pool: pg.Pool
  readonly schema: string
  readonly logger: Logger
  readonly providers: FlagProviderChoice
  /** This process's id in the `instances` table. */
  readonly instanceId: () => string
}

export class LoadedDefinitions {
  readonly #o: LoadedDefinitionsOptions
  readonly #loaded = new Map<string, LoadedDefinition>()

  constructor(options: LoadedDefinitionsOptions) {
    this.#o = options
  }

  /** The definition in use for `name`, once a DAL loaded it. */
  get(name: string): LoadedDefinition | undefined {
    return this.#loaded.get(name)
  }

  /** Reads a migration's definition and its shape from the control schema. */
  async fetch(name: string): Promise<FetchedDefinition> {
    // Retired is fine: in complete the DAL touches the shadow alone.
    const checked = await withClient(this.#o.pool, (client) =>
      loadMigration(client, this.#o.schema, name, { allowRetired: true }),
    )
    return { shape: migrationShape(checked), definitionVersion: checked.definitionVersion }
  }

  /** Puts a fetched definition in use for `name` (its provider chosen now) and records the version loaded. */
  adopt(name: string, fetched: FetchedDefinition): LoadedDefinition {
    const loaded: LoadedDefinition = {
      shape: fetched.shape,
      provider: this.#o.providers.providerFor(fetched.shape.definition),
      definitionVersion: fetched.definitionVersion,
      reloading: Promise.resolve(),
    }
    this.#loaded.set(name, loaded)
    this.#recordLoaded(name, loaded.definitionVersion)
    return loaded
  }

  /**
   * A state row carrying a newer definition version than this process's DAL
   * loaded: load it and apply it before the state is acknowledged. A definition
   * this DAL cannot follow live is refused with a logged reason, keeping the one
   * it has, and the state is not acknowledged (register and doctor name this process).
   * `dal`: the migration's DAL if one was asked for (none: nothing to follow).
   */
  follow(
    name: string,
    definitionVersion: number | undefined,
    dal: Promise<unknown> | undefined,
  ): Promise<void> | undefined {
    const loaded = this.#loaded.get(name)
    if (definitionVersion === undefined || !dal || (loaded && loaded.definitionVersion >= definitionVersion))
      return undefined
    return dal.then(
      () => {
        const current = this.#loaded.get(name) as LoadedDefinition
        current.reloading = current.reloading
          .catch(() => undefined)
          .then(() => this.#reload(name, current, definitionVersion))
        return current.reloading
      },
      () => undefined,
    )
  }

  async #reload(name: string, loaded: LoadedDefinition, definitionVersion: number): Promise<void> {
    if (loaded.definitionVersion >= definitionVersion) return
    const logger = this.#o.logger.child({ migration: name })
    try {
      const checked = await withClient(this.#o.pool, (client) =>
        loadMigration(client, this.#o.schema, name, { allowRetired: true }),
      )
      const shape = migrationShape(checked)
      const moved =
        (['legacyTable', 'shadowTable'] as const).find((k) => shape[k] !== loaded.shape[k]) ??
        (shape.legacyKey.join() !== loaded.shape.legacyKey.join() ||
        shape.shadowKey.join() !== loaded.shape.shadowKey.join()
          ? 'key'
          : undefined)
      if (moved)
        throw new ConfigInvalid(
          name,
          `the new definition changes the ${moved === 'key' ? 'key columns' : moved === 'legacyTable' ? 'legacy table' : 'shadow table'}, which a running process does not follow; restart this process`,
        )
      const provider = this.#o.providers.providerFor(shape.definition)
      loaded.shape = shape
      loaded.provider = provider
      loaded.definitionVersion = checked.definitionVersion
      this.#recordLoaded(name, checked.definitionVersion)
      logger.info(
        { migration: name, definitionVersion: checked.definitionVersion },
        'loaded a changed definition; writes and reads use its mapping from now on',
      )
    } catch (error) {
      logger.error(
        { migration: name, err: error, definitionVersion, keptDefinitionVersion: loaded.definitionVersion },
        `refused definition version ${definitionVersion}; this process keeps version ${loaded.definitionVersion} and does not acknowledge the change`,
      )
      throw error
    }
  }

  #recordLoaded(name: string, definitionVersion: number): void {
    void recordLoadedDefinition(this.#o.pool, this.#o.schema, this.#o.instanceId(), name, definitionVersion).catch(
      (error: unknown) =>
        this.#o.logger.debug({ migration: name, err: error }, 'could not record the loaded definition version'),
    )
  }
}
