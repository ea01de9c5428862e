/**
 * The one LISTEN connection of a process, which proves it hears: it notifies
 * itself (on a channel of its own, through the pool, as state changes are
 * sent) and counts as hearing only while that notification comes back in
 * time. A pooler in transaction mode accepts LISTEN and never delivers: a
 * connection whose announced process id is not its backend's (a pooler's) is
 * not listened on at all, and a silent path is found out by the probe. Deaf
 * or down, it reconnects with backoff.
 */
import pg from 'pg'
import { quoteIdent } from '../../core/identifiers.js'
import type { Logger } from '../../logger.js'

export interface StateListenerOptions {
  /** Where to LISTEN: a direct connection's settings (not through a transaction pooler). */
  readonly connection: pg.ClientConfig
  /** The state channel of the control schema. */
  readonly channel: string
  /** This process's own channel for its self-notification. */
  readonly probeChannel: string
  /** Sends a notification the way state changes are sent (through the pool). */
  readonly notify: (channel: string, payload: string) => Promise<void>
  readonly logger: Logger
  /** A payload that arrived on the state channel. */
  readonly onNotice: (payload: string) => void
  /** Told each time hearing is proven (true) or lost (false). */
  readonly onHearing: (isHearing: boolean) => void
  /** How long a self-notification may take to come back; default 2000 ms. */
  readonly probeTimeoutMs?: number
  /** How often hearing is proven again while it holds; default 5000 ms. */
  readonly probeIntervalMs?: number
}

const MAX_RECONNECT_DELAY_MS = 30_000

export class StateListener {
  readonly #o: StateListenerOptions
  #client: pg.Client | undefined
  #isHearing = false
  #backendPid: number | undefined
  #stopped = false
  #reconnectDelayMs = 250
  #probeSeq = 0
  #pendingProbe: { token: string; timer: NodeJS.Timeout } | undefined
  #probeTimer: NodeJS.Timeout | undefined
  #reconnectTimer: NodeJS.Timeout | undefined
  #warnedDeaf = false
  #isThroughPooler = false
  readonly #lostClients = new WeakSet<pg.Client>()

  constructor(options: StateListenerOptions) {
    this.#o = options
  }

  /** True once the LISTEN connection turned out to go through a pooler: then it is not tried again. */
  get isThroughPooler(): boolean {
    return this.#isThroughPooler
  }

  /** True only while the last self-notification came back in time. */
  get isHearing(): boolean {
    return this.#isHearing
  }

  /** The listening connection's server process id (pg_backend_pid()), while hearing. */
  get backendPid(): number | undefined {
    return this.#isHearing ? this.#backendPid : undefined
  }

  /** Connects, LISTENs and sends the first self-notification; never throws (it retries instead). */
  async start(): Promise<void> {
    await this.#connect()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#clearTimers()
    const client = this.#client
    this.#client = undefined
    this.#isHearing = false
    if (client) this.#lostClients.add(client)
    await client?.end().catch(() => undefined)
  }

  /** Drops the connection as if the network had (for tests and drills). */
  simulateLoss(): void {
    this.#client?.emit('error', new Error('simulated listener loss'))
  }

  /** Sends a self-notification now; hearing is lost if it is not back within the timeout. */
  probe(): void {
    const client = this.#client
    if (!client || this.#stopped || this.#pendingProbe) return
    const token = `${++this.#probeSeq}`
    const timeoutMs = this.#o.probeTimeoutMs ?? 2000
    const timer = setTimeout(() => this.#deaf(client, timeoutMs), timeoutMs)
    timer.unref()
    this.#pendingProbe = { token, timer }
    this.#o.notify(this.#o.probeChannel, token).catch((error: unknown) => {
      this.#o.logger.debug({ err: error }, 'could not send the self-notification; the probe will time out')
    })
  }

  #clearTimers(): void {
    if (this.#pendingProbe) clearTimeout(this.#pendingProbe.timer)
    this.#pendingProbe = undefined
    if (this.#probeTimer) clearInterval(this.#probeTimer)
    this.#probeTimer = undefined
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
  }

  #heard(token: string): void {
    if (this.#pendingProbe?.token !== token) return
    clearTimeout(this.#pendingProbe.timer)
    this.#pendingProbe = undefined
    this.#reconnectDelayMs = 250
    if (this.#isHearing) return
    this.#isHearing = true
    if (this.#warnedDeaf)
      this.#o.logger.info('state listener hears its own notifications again; following state by LISTEN')
    this.#warnedDeaf = false
    this.#o.onHearing(true)
  }

  #deaf(client: pg.Client, timeoutMs: number): void {
    this.#pendingProbe = undefined
    if (!this.#warnedDeaf) {
      this.#o.logger.warn(
        { probeTimeoutMs: timeoutMs },
        `state listener did not hear its own notification within ${timeoutMs} ms (a transaction pooler accepts LISTEN and never delivers: give listenUrl a direct connection); following state by polling`,
      )
      this.#warnedDeaf = true
    }
    this.#lost(client, undefined)
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return
    const client = new pg.Client({ ...this.#o.connection, application_name: 'cutover-listener' })
    client.on('error', (error) => this.#lost(client, error))
    client.on('end', () => this.#lost(client, new Error('listening connection ended')))
    client.on('notification', (message) => {
      if (message.channel === this.#o.probeChannel) this.#heard(message.payload ?? '')
      else if (message.payload) this.#o.onNotice(message.payload)
    })
    try {
      await client.connect()
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      const pid = rows[0]?.pid
      if (pid !== (client as unknown as { processID?: number }).processID) {
        // A pooler makes up the process id it announces. Through a transaction pooler LISTEN is
        // accepted and never delivers, and it would stay on a server connection others use next.
        this.#isThroughPooler = true
        this.#lostClients.add(client)
        await client.end().catch(() => undefined)
        this.#o.logger.warn(
          'the LISTEN connection goes through a pooler (its announced process id is not its backend pid), where notifications are lost: ' +
            'following state by polling; give listenUrl a direct connection to listen',
        )
        return
      }
      await client.query(`LISTEN ${quoteIdent(this.#o.channel)}`)
      await client.query(`LISTEN ${quoteIdent(this.#o.probeChannel)}`)
      if (this.#lostClients.has(client) || this.#stopped) return
      this.#client = client
      this.#backendPid = pid
      this.probe()
      this.#probeTimer = setInterval(() => this.probe(), this.#o.probeIntervalMs ?? 5000)
      this.#probeTimer.unref()
    } catch (error) {
      this.#lost(client, error)
    }
  }

  #lost(client: pg.Client, error: unknown): void {
    // 'error' and 'end' both fire for one loss; handle it once.
    if (this.#lostClients.has(client)) return
    this.#lostClients.add(client)
    if (this.#client !== undefined && client !== this.#client) return
    if (error !== undefined && this.#isHearing)
      this.#o.logger.warn({ err: error }, 'state listener lost; polling until it hears again')
    const wasHearing = this.#isHearing
    this.#client = undefined
    this.#isHearing = false
    this.#backendPid = undefined
    this.#clearTimers()
    client.removeAllListeners('notification')
    // A connection that went silent may never answer the goodbye: its socket goes after a second regardless.
    const ended = client.end().catch(() => undefined)
    const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream
    void Promise.race([ended.then(() => true), new Promise((r) => setTimeout(r, 1000).unref())]).then((done) => {
      if (done !== true) stream?.destroy()
    })
    if (wasHearing) this.#o.onHearing(false)
    if (this.#stopped) return
    const delay = this.#reconnectDelayMs
    this.#reconnectDelayMs = Math.min(this.#reconnectDelayMs * 2, MAX_RECONNECT_DELAY_MS)
    this.#reconnectTimer = setTimeout(
      () => {
        void this.#connect()
      },
      delay * (0.75 + Math.random() * 0.5),
    )
    this.#reconnectTimer.unref()
  }
}
