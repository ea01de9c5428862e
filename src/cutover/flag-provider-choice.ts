/**
 * Which percentage provider routes a migration's ramp reads: the control
 * schema, or Unleash when the definition says so (then `Cutover.connect` must
 * have been given Unleash options). Holds the process's one Unleash client.
 */
import { ConfigInvalid } from '../core/errors.js'
import type { MigrationDefinition } from '../core/definition.js'
import { controlProvider } from '../flags/control-provider.js'
import type { PercentageProvider } from '../flags/percentage-provider.js'
import { defaultToggleName, toggleName } from '../flags/toggle-name.js'
import { UnleashProvider, type UnleashOptions } from '../flags/unleash-provider.js'
import type { Logger } from '../logger.js'

export class FlagProviderChoice {
  readonly #toggles = new Map<string, string>()
  #unleash: UnleashProvider | undefined

  /** The Unleash provider when Unleash options were given. */
  get unleash(): UnleashProvider | undefined {
    return this.#unleash
  }

  /** Starts the Unleash client when `options` are given, and waits (bounded) for its first answer. */
  async connect(options: UnleashOptions | undefined, logger: Logger): Promise<void> {
    if (options) {
      const unleash = new UnleashProvider({
        ...options,
        logger: logger.child({ provider: 'unleash' }),
        toggleOf: (migration) => this.#toggles.get(migration) ?? defaultToggleName(migration),
      })
      this.#unleash = unleash
      // Not ready in time (or unreachable): ramp reads of Unleash-routed migrations go to legacy until it answers.
      await unleash.whenReady(options.readyTimeoutMs ?? 1000)
    }
  }

  /** The provider of a definition; refused when it names Unleash and there is no Unleash client. */
  providerFor(definition: MigrationDefinition): PercentageProvider {
    if (definition.routing.provider === 'control') return controlProvider
    if (!this.#unleash) {
      throw new ConfigInvalid(
        definition.name,
        'routes reads with Unleash (routing.provider "unleash") but Cutover.connect was given no unleash options; pass { unleash: { url } } (token from UNLEASH_API_TOKEN)',
      )
    }
    this.#toggles.set(definition.name, toggleName(definition))
    return this.#unleash
  }

  async close(): Promise<void> {
    await this.#unleash?.close()
  }
}
