/** Ramp reads by an Unleash toggle's flexibleRollout, evaluated by unleash-client; the control-schema phase gates it. */
import type { EventEmitter } from 'node:events'
import { InMemStorageProvider, Unleash } from 'unleash-client'
import { phasePolicy, type MigrationState, type Side } from '../core/phases.js'
import { routeRead } from '../core/routing.js'
import type { Logger } from '../logger.js'
import type { PercentageProvider } from './percentage-provider.js'
import { defaultToggleName } from './toggle-name.js'
import { displayUrl, unleashApiUrl } from './unleash-api-url.js'

/** How an application reaches Unleash (`CutoverOptions.unleash`). */
export interface UnleashOptions {
  /** Unleash's API URL, e.g. `https://unleash.example.com/api` (`/api` is added when missing). */
  readonly url: string
  /** A client (backend) token; default env `UNLEASH_API_TOKEN`; none for a server without authentication. */
  readonly token?: string
  /** The name this application reports to Unleash; default `cutover`. */
  readonly appName?: string
  /** How often toggles are fetched; default 15 000 ms (unleash-client's default). */
  readonly refreshIntervalMs?: number
  /** How long `Cutover.connect` waits for Unleash's first answer; default 1000 ms. Until it answers, ramp reads go to legacy. */
  readonly readyTimeoutMs?: number
  /** Do not send usage metrics to Unleash; default false. */
  readonly disableMetrics?: boolean
}

export interface UnleashProviderOptions extends UnleashOptions {
  readonly logger: Logger
  /** The toggle of a migration; default `cutover.<migration>.shadow-reads`. */
  readonly toggleOf?: (migration: string) => string
}

/** What this process last fetched for a toggle (for status and tests). */
export interface ToggleView {
  readonly enabled: boolean
  /** The first flexibleRollout strategy's `rollout`, when there is one. */
  readonly rolloutPercent: number | undefined
}

export class UnleashProvider implements PercentageProvider {
  readonly #unleash: Unleash
  readonly #toggleOf: (migration: string) => string
  readonly #logger: Logger
  readonly #redact: (text: string) => string
  readonly #firstAnswer: Promise<void>
  #ready = false
  #failing = false
  #closed = false

  constructor(options: UnleashProviderOptions) {
    const token = options.token ?? process.env.UNLEASH_API_TOKEN
    this.#toggleOf = options.toggleOf ?? defaultToggleName
    this.#logger = options.logger
    this.#redact = (text) => (token ? text.split(token).join('***') : text)
    this.#unleash = new Unleash({
      url: unleashApiUrl(options.url),
      appName: options.appName ?? 'cutover',
      refreshInterval: options.refreshIntervalMs ?? 15_000,
      disableMetrics: options.disableMetrics ?? false,
      ...(token ? { customHeaders: { Authorization: token } } : {}),
      // No backup file: a process that starts while Unleash is unreachable routes
      // ramp reads to legacy instead of replaying toggles saved by another run.
      storageProvider: new InMemStorageProvider(),
      skipInstanceCountWarning: true,
    })
    this.#firstAnswer = new Promise((resolve) => {
      this.#unleash.once('ready', () => resolve())
      this.#unleash.once('error', () => resolve())
    })
    this.#unleash.on('ready', () => {
      this.#ready = true
    })
    this.#unleash.on('changed', () => this.#answered())
    this.#unleash.on('unchanged', () => this.#answered())
    this.#unleash.on('error', (error: unknown) => this.#failed(error))
    this.#unleash.on('warn', (warning: unknown) =>
      this.#logger.debug({ warning: this.#redact(String(warning)) }, 'unleash warning'),
    )
    this.#logger.debug({ url: displayUrl(unleashApiUrl(options.url)) }, 'unleash client started')
  }

  route(migration: string, state: MigrationState, routingKey: string): Side {
    // The phase gates the toggle: outside ramp (a rollback included) Unleash is never asked.
    if (phasePolicy(state.phase).reads !== 'ramp') return routeRead(migration, state, routingKey)
    if (!this.#ready) return 'legacy'
    try {
      // Stickiness userId = the routing key; the toggle's groupId is the migration's name,
      // so the bucket is rolloutBucket(routingKey, migration), the built-in one.
      return this.#unleash.isEnabled(this.#toggleOf(migration), { userId: routingKey }, false) ? 'shadow' : 'legacy'
    } catch {
      return 'legacy'
    }
  }

  /** Resolves true once toggles were fetched, false when Unleash failed first or `timeoutMs` passed. */
  async whenReady(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([this.#firstAnswer, timeout])
    clearTimeout(timer)
    // 'ready' is emitted on the next tick after the repository has data.
    await new Promise((resolve) => setImmediate(resolve))
    return this.#ready
  }

  /** The toggle of `migration` as this process last fetched it; undefined when it has none. */
  seen(migration: string): ToggleView | undefined {
    const feature = this.#ready ? this.#unleash.getFeatureToggleDefinition(this.#toggleOf(migration)) : undefined
    if (!feature) return undefined
    const rollout = feature.strategies?.find((s) => s.name === 'flexibleRollout')?.parameters?.rollout
    return { enabled: feature.enabled, rolloutPercent: rollout === undefined ? undefined : Number(rollout) }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#unleash.destroy()
    // unleash-client's destroy() removes the repository's listeners while a fetch may still be
    // retrying; its failure would then be an unhandled 'error' event and end the process.
    const repository = (this.#unleash as unknown as { repository?: EventEmitter }).repository
    repository?.on('error', () => undefined)
  }

  #answered(): void {
    if (!this.#failing) return
    this.#failing = false
    this.#logger.info('unleash is answering again; ramp reads follow its toggles')
  }

  #failed(error: unknown): void {
    if (this.#failing || this.#closed) return
    this.#failing = true
    const message = this.#redact(error instanceof Error ? error.message : String(error))
    this.#logger.warn(
      { error: message },
      this.#ready
        ? 'unleash unreachable; ramp reads keep the toggles last fetched, and a rollback still wins'
        : 'unleash unreachable before its first answer; ramp reads go to legacy until it answers',
    )
  }
}
