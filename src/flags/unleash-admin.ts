/** Sets a migration's toggle through Unleash's admin API, so Unleash's own UI agrees with the control schema. */
import { UnleashAdminFailed } from './unleash-admin-failed.js'
import { displayUrl, unleashApiUrl } from './unleash-api-url.js'

export interface UnleashAdminOptions {
  /** Unleash's API URL (`/api` is added when missing). */
  readonly url: string
  /** An admin token (or personal access token); sent as `Authorization`, never printed. */
  readonly token?: string
  /** Default `default`. */
  readonly project?: string
  /** The environment the application's client token reads; default `development`. */
  readonly environment?: string
  /** Per request; default 5000 ms. */
  readonly timeoutMs?: number
}

/** The part of a strategy the admin API returns that an update must carry over. */
interface AdminStrategy {
  readonly id: string
  readonly name: string
  readonly constraints?: unknown[]
  readonly segments?: unknown[]
  readonly variants?: unknown[]
}

export class UnleashAdmin {
  readonly #base: string
  readonly #token: string | undefined
  readonly #project: string
  readonly #environment: string
  readonly #timeoutMs: number

  constructor(options: UnleashAdminOptions) {
    this.#base = unleashApiUrl(options.url)
    this.#token = options.token
    this.#project = options.project ?? 'default'
    this.#environment = options.environment ?? 'development'
    this.#timeoutMs = options.timeoutMs ?? 5000
  }

  get environment(): string {
    return this.#environment
  }

  /**
   * Makes the toggle's flexibleRollout strategy `percent` % with stickiness on userId
   * (the routing key) and `groupId` (the migration's name, so the buckets are the
   * built-in ones), then enables the toggle. Creates the toggle and the strategy
   * when missing; updates every flexibleRollout strategy it has.
   */
  async setRolloutPercent(toggle: string, percent: number, groupId: string): Promise<void> {
    const strategiesPath = `${this.#featurePath(toggle)}/environments/${encodeURIComponent(this.#environment)}/strategies`
    let strategies = await this.#call<AdminStrategy[]>(toggle, 'GET', strategiesPath, undefined, true)
    if (strategies === undefined) {
      await this.#call(toggle, 'POST', `/admin/projects/${encodeURIComponent(this.#project)}/features`, {
        name: toggle,
        type: 'release',
        description: `cutover: share of routing keys reading the shadow table of migration ${groupId}`,
      })
      strategies = []
    }
    const parameters = { rollout: String(percent), stickiness: 'userId', groupId }
    const rollouts = strategies.filter((s) => s.name === 'flexibleRollout')
    if (rollouts.length === 0) {
      await this.#call(toggle, 'POST', strategiesPath, { name: 'flexibleRollout', constraints: [], parameters })
    }
    for (const strategy of rollouts) {
      await this.#call(toggle, 'PUT', `${strategiesPath}/${encodeURIComponent(strategy.id)}`, {
        name: 'flexibleRollout',
        parameters,
        disabled: false,
        constraints: strategy.constraints ?? [],
        ...(strategy.segments ? { segments: strategy.segments } : {}),
        ...(strategy.variants ? { variants: strategy.variants } : {}),
      })
    }
    await this.#call(
      toggle,
      'POST',
      `${this.#featurePath(toggle)}/environments/${encodeURIComponent(this.#environment)}/on`,
    )
  }

  /** Turns the toggle off in the environment: Unleash then answers false for every key. */
  async disableToggle(toggle: string): Promise<void> {
    await this.#call(
      toggle,
      'POST',
      `${this.#featurePath(toggle)}/environments/${encodeURIComponent(this.#environment)}/off`,
    )
  }

  #featurePath(toggle: string): string {
    return `/admin/projects/${encodeURIComponent(this.#project)}/features/${encodeURIComponent(toggle)}`
  }

  /** One admin request; with `missingIsUndefined`, a 404 resolves to undefined. */
  async #call<T>(
    toggle: string,
    method: string,
    path: string,
    body?: unknown,
    missingIsUndefined = false,
  ): Promise<T | undefined> {
    const where = `${method} ${displayUrl(this.#base + path)}`
    let response: Response
    try {
      response = await fetch(this.#base + path, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.#token ? { authorization: this.#token } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (error) {
      const reason =
        error instanceof Error && error.cause instanceof Error
          ? error.cause.message
          : error instanceof Error
            ? error.message
            : String(error)
      throw new UnleashAdminFailed(toggle, this.#redact(`cannot reach Unleash (${where}): ${reason}`), { cause: error })
    }
    const text = await response.text().catch(() => '')
    if (response.ok) return text ? (JSON.parse(text) as T) : undefined
    if (response.status === 404 && missingIsUndefined) return undefined
    const detail = serverMessage(text)
    if (response.status === 401 || response.status === 403) {
      throw new UnleashAdminFailed(
        toggle,
        this.#redact(
          `Unleash refused ${where} (HTTP ${response.status}${detail}); set UNLEASH_ADMIN_TOKEN to an admin token`,
        ),
      )
    }
    throw new UnleashAdminFailed(toggle, this.#redact(`Unleash answered HTTP ${response.status} to ${where}${detail}`))
  }

  #redact(text: string): string {
    return this.#token ? text.split(this.#token).join('***') : text
  }
}

/** Unleash's own one-line explanation from an error body, if it sent one. */
function serverMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown }
    return typeof parsed.message === 'string' ? `: ${parsed.message.slice(0, 200)}` : ''
  } catch {
    return ''
  }
}
