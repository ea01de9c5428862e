/**
 * Keeps a process's copy of every migration's state current. Transport: a
 * LISTEN connection that proves it hears (StateListener), and polling one
 * small row (a digest of the state table) every `fallbackPollMs` while it
 * does not, with a slow safety poll always. Applying: `#apply` takes one
 * state row, whichever transport brought it, and acknowledges it in the
 * `instances` table.
 */
import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import type { MigrationState } from '../../core/phases.js'
import type { Logger } from '../../logger.js'
import { stateChannel, type GroupNotice, type StateNotice } from './state-notice.js'
import { isPhase } from '../../core/phases.js'
import type { BucketCounts } from '../../core/routing-sample.js'
import { isNotFound } from '../../db/pg-errors.js'
import type { Statement } from '../../db/statement.js'
import { StateListener } from './state-listener.js'
import {
  acknowledgeSql,
  deleteInstanceSql,
  heartbeatBeforeFollowModeSql,
  heartbeatSql,
  registerInstanceSql,
  routingSampleSql,
} from './instance-sql.js'
import { notifySql, pollStatesSql, stateDigestSql, type PolledRow } from './state-poll-sql.js'

/** How a process follows state: `listen` (LISTEN, proven), `poll` (LISTEN not proven: polling), `poll_only` (configured not to listen). */
export type FollowMode = 'listen' | 'poll' | 'poll_only'

export interface StateWatcherOptions {
  readonly pool: pg.Pool
  readonly schema: string
  readonly logger: Logger
  /**
   * Called for every state applied, with the seconds since it was committed and the
   * migration's definition version; the state is acknowledged once it returns (or its
   * promise resolves: a changed definition is reloaded first), never when it throws.
   */
  readonly onApply: (
    migration: string,
    state: MigrationState,
    propagationSeconds: number | undefined,
    definitionVersion: number | undefined,
  ) => void | Promise<void>
  /** Told whenever this process starts or stops hearing notifications. */
  readonly onListening?: (isListening: boolean) => void
  /** Poll period while not hearing notifications; default 500 ms, and never more. */
  readonly fallbackPollMs?: number
  /** Poll period while hearing (catches anything missed). */
  readonly safetyPollMs?: number
  readonly heartbeatMs?: number
  /** Direct connection string for LISTEN; default: the pool's settings. */
  readonly listenUrl?: string
  /** false: no LISTEN connection, polling only. */
  readonly listen?: boolean
  /** How long a self-notification may take to come back; default 2000 ms. */
  readonly probeTimeoutMs?: number
  /** This process's recent routing keys per migration, written with each heartbeat. */
  readonly routingSample?: () => Record<string, BucketCounts>
}

/** The longest interval between polls while a process does not hear notifications (a rollback must reach it within 1 s). */
export const MAX_FALLBACK_POLL_MS = 500

export class StateWatcher {
  readonly instanceId = randomUUID()
  readonly #options: StateWatcherOptions
  readonly #states = new Map<string, MigrationState>()
  readonly #listener: StateListener | undefined
  #stopped = false
  #timers: NodeJS.Timeout[] = []
  #pollTimer: NodeJS.Timeout | undefined
  #digest: string | undefined
  #isPolling = false
  #beat: Promise<void> = Promise.resolve()
  #hasFollowMode = true

  constructor(options: StateWatcherOptions) {
    this.#options = options
    if (options.listen === false) return
    const connection: pg.ClientConfig = options.listenUrl
      ? { connectionString: options.listenUrl }
      : (options.pool.options as pg.ClientConfig)
    this.#listener = new StateListener({
      connection,
      channel: stateChannel(options.schema),
      probeChannel: `cutover_probe_${this.instanceId.replaceAll('-', '')}`,
      notify: async (channel, payload) => {
        await this.#query(notifySql(channel, payload))
      },
      logger: options.logger,
      probeTimeoutMs: options.probeTimeoutMs,
      probeIntervalMs: options.heartbeatMs,
      onNotice: (payload) => this.#onNotice(payload),
      onHearing: (isHearing) => this.#onHearing(isHearing),
    })
  }

  /** The last state applied for `migration`, or undefined when none ever was. */
  current(migration: string): MigrationState | undefined {
    return this.#states.get(migration)
  }

  /** True only while this process has proven, by notifying itself, that it hears state notifications. */
  get isListening(): boolean {
    return this.#listener?.isHearing ?? false
  }

  get followMode(): FollowMode {
    if (!this.#listener) return 'poll_only'
    return this.#listener.isHearing ? 'listen' : 'poll'
  }

  /** Loads every state, registers this instance and starts listening. Throws if the database cannot be read. */
  async start(): Promise<void> {
    await this.#query(registerInstanceSql(this.#options.schema, this.instanceId, hostname(), process.pid))
    this.#options.onListening?.(false)
    await this.poll()
    await this.#listener?.start()
    this.#timers.push(
      setInterval(() => {
        void this.heartbeat()
      }, this.#options.heartbeatMs ?? 5000).unref(),
    )
    this.#schedulePoll()
    void this.heartbeat()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const t of this.#timers) clearInterval(t)
    if (this.#pollTimer) clearTimeout(this.#pollTimer)
    await this.#listener?.stop()
    await this.#query(deleteInstanceSql(this.#options.schema, this.instanceId)).catch(() => undefined)
  }

  /** Reads every state now and applies what is newer. */
  async poll(): Promise<void> {
    const { rows } = await this.#query<PolledRow>(pollStatesSql(this.#options.schema))
    for (const row of rows) {
      if (!isPhase(row.phase)) continue
      this.#apply({
        migration: row.migration,
        phase: row.phase,
        readPercent: row.read_percent,
        authority: row.authority === 'shadow' ? 'shadow' : 'legacy',
        version: Number(row.version),
        changedAtMs: Number(row.changed_ms),
        ...(row.definition_version === null ? {} : { definitionVersion: Number(row.definition_version) }),
      })
    }
  }

  /**
   * Reads one small row, a digest of every state row, and reads the states
   * themselves only when it changed: what a fleet of polling processes costs.
   */
  async #pollDigest(): Promise<void> {
    const { rows } = await this.#query<{ digest: string }>(stateDigestSql(this.#options.schema))
    const digest = rows[0]?.digest
    if (digest !== undefined && digest === this.#digest) return
    await this.poll()
    this.#digest = digest
  }

  /** Drops the listening connection as if the network had (for tests and drills). */
  simulateListenerLoss(): void {
    this.#listener?.simulateLoss()
  }

  #onNotice(payload: string): void {
    try {
      const notice = JSON.parse(payload) as StateNotice | GroupNotice
      // A group's notice carries every member: all are applied in this one turn, so no read sees members in two states.
      const notices = 'members' in notice ? notice.members : [notice]
      for (const n of notices) if (isPhase(n.phase)) this.#apply(n)
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'ignored a malformed state notification')
    }
  }

  #onHearing(isHearing: boolean): void {
    this.#options.onListening?.(isHearing)
    if (isHearing) {
      // A change committed while this process was not listening is caught by this poll.
      void this.poll().catch(() => undefined)
    }
    void this.heartbeat()
    // The poll interval changes with hearing; a poll under way reschedules itself when done.
    if (this.#isPolling) return
    if (this.#pollTimer) clearTimeout(this.#pollTimer)
    this.#schedulePoll()
  }

  #apply(notice: StateNotice): void {
    const previous = this.#states.get(notice.migration)
    if (previous && previous.version >= notice.version) return
    const state: MigrationState = {
      phase: notice.phase,
      readPercent: notice.readPercent,
      authority: notice.authority,
      version: notice.version,
    }
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
      (error: unknown) =>
        this.#options.logger.error(
          { err: error, migration: notice.migration, version: notice.version },
          'state version not acknowledged: applying it failed',
        ),
    )
  }

  async #acknowledge(migration: string, version: number): Promise<void> {
    await this.#query(acknowledgeSql(this.#options.schema, this.instanceId, migration, version)).catch(
      (error: unknown) =>
        this.#options.logger.warn({ err: error, migration }, 'could not record the state acknowledgement'),
    )
  }

  /** Writes this instance's heartbeat, how it follows state (and routing sample) now; it also runs every `heartbeatMs`. */
  heartbeat(): Promise<void> {
    // One after another: an older follow_mode must never land after a newer one.
    this.#beat = this.#beat.then(() => this.#writeHeartbeat())
    return this.#beat
  }

  async #writeHeartbeat(): Promise<void> {
    const schema = this.#options.schema
    const backendPid = this.#listener?.backendPid ?? null
    if (this.#hasFollowMode) {
      try {
        await this.#query(heartbeatSql(schema, this.instanceId, backendPid, this.followMode))
      } catch (error) {
        // A control schema older than sql/0006 has no follow_mode: write the rest.
        if (!isNotFound(error)) return
        this.#hasFollowMode = false
      }
    }
    if (!this.#hasFollowMode) {
      await this.#query(heartbeatBeforeFollowModeSql(schema, this.instanceId, backendPid)).catch(() => undefined)
    }
    // Apart, so a control schema older than sql/0004 still gets its heartbeat.
    const sample = this.#options.routingSample?.()
    if (!sample || Object.keys(sample).length === 0) return
    await this.#query(routingSampleSql(schema, this.instanceId, sample)).catch((error: unknown) =>
      this.#options.logger.debug({ err: error }, 'could not record the routing sample'),
    )
  }

  #query<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: Statement): Promise<pg.QueryResult<R>> {
    return this.#options.pool.query<R>(statement.text, statement.values)
  }

  #schedulePoll(): void {
    if (this.#stopped) return
    const delay = this.isListening
      ? (this.#options.safetyPollMs ?? 5000)
      : Math.min(this.#options.fallbackPollMs ?? MAX_FALLBACK_POLL_MS, MAX_FALLBACK_POLL_MS)
    this.#pollTimer = setTimeout(() => {
      this.#isPolling = true
      this.#pollDigest()
        .catch((error: unknown) =>
          this.#options.logger.warn({ err: error }, 'state poll failed; keeping the last state applied'),
        )
        .finally(() => {
          this.#isPolling = false
          this.#schedulePoll()
        })
    }, delay)
    this.#pollTimer.unref()
  }
}
