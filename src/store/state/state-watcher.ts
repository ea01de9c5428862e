/**
 * Keeps a process's copy of every migration's state current: LISTEN on a
 * dedicated connection (own error handler, reconnect with backoff), polling as
 * the fallback while that connection is down, and a slow safety poll always.
 * Each applied change is acknowledged in the `instances` table.
 */
import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { quoteIdent } from '../../core/identifiers.js'
import type { MigrationState } from '../../core/phases.js'
import type { Logger } from '../../logger.js'
import { DEFINITION_VERSION_SQL, stateChannel, type StateNotice } from './state-store.js'
import { isPhase } from '../../core/phases.js'
import type { BucketCounts } from '../../core/routing-sample.js'
import { controlSchema } from '../../db/control-schema.js'

export interface StateWatcherOptions {
  readonly pool: pg.Pool
  readonly schema: string
  readonly logger: Logger
  /**
   * Called for every state applied, with the seconds since it was committed and the
   * migration's definition version; the state is acknowledged once it returns (or its
   * promise resolves: a changed definition is reloaded first), never when it throws.
   */
  readonly onApply: (migration: string, state: MigrationState, propagationSeconds: number | undefined, definitionVersion: number | undefined) => void | Promise<void>
  /** Poll period while the listening connection is down. */
  readonly fallbackPollMs?: number
  /** Poll period while it is up (catches anything missed). */
  readonly safetyPollMs?: number
  readonly heartbeatMs?: number
  /** This process's recent routing keys per migration, written with each heartbeat. */
  readonly routingSample?: () => Record<string, BucketCounts>
}

interface PolledRow { migration: string; phase: string; read_percent: number; authority: string; version: string; changed_ms: string; definition_version: string | null }

export class StateWatcher {
  readonly instanceId = randomUUID()
  readonly #options: StateWatcherOptions
  readonly #states = new Map<string, MigrationState>()
  #listener: pg.Client | undefined
  #listening = false
  #stopped = false
  #timers: NodeJS.Timeout[] = []
  #pollTimer: NodeJS.Timeout | undefined
  #reconnectDelayMs = 250
  readonly #lostClients = new WeakSet<pg.Client>()

  constructor(options: StateWatcherOptions) {
    this.#options = options
  }

  /** The last state applied for `migration`, or undefined when none ever was. */
  current(migration: string): MigrationState | undefined {
    return this.#states.get(migration)
  }

  get isListening(): boolean {
    return this.#listening
  }

  /** Loads every state, registers this instance and starts listening. Throws if the database cannot be read. */
  async start(): Promise<void> {
    const s = controlSchema(this.#options.schema).quoted
    await this.#options.pool.query(
      `INSERT INTO ${s}.instances (id, host, pid) VALUES ($1, $2, $3)`,
      [this.instanceId, hostname(), process.pid],
    )
    await this.poll()
    await this.#connect()
    this.#timers.push(setInterval(() => { void this.heartbeat() }, this.#options.heartbeatMs ?? 5000).unref())
    this.#schedulePoll()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const t of this.#timers) clearInterval(t)
    if (this.#pollTimer) clearTimeout(this.#pollTimer)
    const listener = this.#listener
    this.#listener = undefined
    this.#listening = false
    await listener?.end().catch(() => undefined)
    await this.#options.pool.query(`DELETE FROM ${controlSchema(this.#options.schema).quoted}.instances WHERE id = $1`, [this.instanceId]).catch(() => undefined)
  }

  /** Reads every state now and applies what is newer. */
  async poll(): Promise<void> {
    const { rows } = await this.#options.pool.query<PolledRow>(
      `SELECT migration, phase, read_percent, authority, version::text AS version,
              (extract(epoch from updated_at) * 1000)::bigint::text AS changed_ms, ${DEFINITION_VERSION_SQL('st')} AS definition_version
         FROM ${controlSchema(this.#options.schema).quoted}.state st`,
    )
    for (const row of rows) {
      if (!isPhase(row.phase)) continue
      this.#apply({
        migration: row.migration, phase: row.phase, readPercent: row.read_percent,
        authority: row.authority === 'shadow' ? 'shadow' : 'legacy', version: Number(row.version), changedAtMs: Number(row.changed_ms),
        ...(row.definition_version === null ? {} : { definitionVersion: Number(row.definition_version) }),
      })
    }
  }

  /** Drops the listening connection as if the network had (for tests and drills). */
  simulateListenerLoss(): void {
    this.#listener?.emit('error', new Error('simulated listener loss'))
  }

  #apply(notice: StateNotice): void {
    const previous = this.#states.get(notice.migration)
    if (previous && previous.version >= notice.version) return
    const state: MigrationState = { phase: notice.phase, readPercent: notice.readPercent, authority: notice.authority, version: notice.version }
    this.#states.set(notice.migration, state)
    const propagation = previous ? Math.max(0, (Date.now() - notice.changedAtMs) / 1000) : undefined
    let applied: void | Promise<void>
    try {
      applied = this.#options.onApply(notice.migration, state, propagation, notice.definitionVersion)
    } catch (error) {
      applied = Promise.reject(error)
    }
    void Promise.resolve(applied).then(
      () => this.#acknowledge(notice.migration, notice.version),
      (error: unknown) => this.#options.logger.error({ err: error, migration: notice.migration, version: notice.version }, 'state version not acknowledged: applying it failed'),
    )
  }

  async #acknowledge(migration: string, version: number): Promise<void> {
    await this.#options.pool.query(
      `UPDATE ${controlSchema(this.#options.schema).quoted}.instances
          SET applied = applied || jsonb_build_object($2::text, $3::bigint), heartbeat_at = clock_timestamp() WHERE id = $1`,
      [this.instanceId, migration, version],
    ).catch((error: unknown) => this.#options.logger.warn({ err: error, migration }, 'could not record the state acknowledgement'))
  }

  /** Writes this instance's heartbeat (and routing sample) now; it also runs every `heartbeatMs`. */
  async heartbeat(): Promise<void> {
    const s = controlSchema(this.#options.schema).quoted
    const backendPid = this.#listening ? (this.#listener as unknown as { processID?: number } | undefined)?.processID ?? null : null
    await this.#options.pool.query(
      `UPDATE ${s}.instances SET heartbeat_at = clock_timestamp(), backend_pid = $2 WHERE id = $1`,
      [this.instanceId, backendPid],
    ).catch(() => undefined)
    // Apart, so a control schema older than sql/0004 still gets its heartbeat.
    const sample = this.#options.routingSample?.()
    if (!sample || Object.keys(sample).length === 0) return
    await this.#options.pool.query(`UPDATE ${s}.instances SET routing_sample = $2::jsonb WHERE id = $1`, [this.instanceId, JSON.stringify(sample)])
      .catch((error: unknown) => this.#options.logger.debug({ err: error }, 'could not record the routing sample'))
  }

  #schedulePoll(): void {
    if (this.#stopped) return
    const delay = this.#listening ? (this.#options.safetyPollMs ?? 5000) : (this.#options.fallbackPollMs ?? 500)
    this.#pollTimer = setTimeout(() => {
      this.poll()
        .catch((error: unknown) => this.#options.logger.warn({ err: error }, 'state poll failed; keeping the last state applied'))
        .finally(() => this.#schedulePoll())
    }, delay)
    this.#pollTimer.unref()
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return
    const client = new pg.Client({ ...(this.#options.pool.options as pg.ClientConfig), application_name: 'cutover-listener' })
    client.on('error', (error) => this.#lost(client, error))
    client.on('end', () => this.#lost(client, new Error('listening connection ended')))
    client.on('notification', (message) => {
      if (!message.payload) return
      try {
        const notice = JSON.parse(message.payload) as StateNotice
        if (isPhase(notice.phase)) this.#apply(notice)
      } catch (error) {
        this.#options.logger.warn({ err: error }, 'ignored a malformed state notification')
      }
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${quoteIdent(stateChannel(this.#options.schema))}`)
      this.#listener = client
      this.#listening = true
      this.#reconnectDelayMs = 250
      // A change committed while we were not listening is caught by this poll.
      await this.poll().catch(() => undefined)
      void this.heartbeat()
    } catch (error) {
      this.#lost(client, error)
    }
  }

  #lost(client: pg.Client, error: unknown): void {
    // 'error' and 'end' both fire for one loss; handle it once.
    if (this.#lostClients.has(client)) return
    this.#lostClients.add(client)
    if (client !== this.#listener && this.#listener !== undefined) return
    if (this.#listening) this.#options.logger.warn({ err: error }, 'state listener lost; polling until it reconnects')
    this.#listening = false
    this.#listener = undefined
    client.removeAllListeners('notification')
    client.end().catch(() => undefined)
    if (this.#stopped) return
    const delay = this.#reconnectDelayMs
    this.#reconnectDelayMs = Math.min(this.#reconnectDelayMs * 2, 5000)
    const timer = setTimeout(() => { void this.#connect() }, delay * (0.75 + Math.random() * 0.5))
    timer.unref()
    if (this.#pollTimer) clearTimeout(this.#pollTimer)
    this.#schedulePoll()
  }
}
