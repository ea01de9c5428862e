/**
 * Follows the bypass net's totals (the control schema's `bypass_write_totals()`,
 * written by the trigger in other writers' transactions) into
 * `cutover_bypass_writes_total`. Every application process exports the same
 * totals, so queries aggregate with `max`. Any writer chooses its own
 * `application_name` (and can call the net's function directly), so the labels
 * are bounded here, whatever the totals hold: at most MAX_WRITERS
 * (application_name, role) pairs per migration, each value cut to
 * MAX_LABEL_CHARS characters, and every other writer counted under OTHER_WRITERS.
 */
import type { Logger } from '../logger.js'
import { controlSchema } from '../db/control-schema.js'
import type { Queryable } from '../db/queryable.js'
import type { Instruments } from './instruments.js'

export const DEFAULT_BYPASS_EXPORT_MS = 15_000
/** Writer label pairs per migration before the rest are OTHER_WRITERS. */
export const MAX_WRITERS = 20
/** The longest `application_name` or `role` label value, in characters (PostgreSQL's names are 63 bytes). */
export const MAX_LABEL_CHARS = 64
/** The `application_name` and `role` of every writer past MAX_WRITERS (parenthesised: no PostgreSQL role is named so). */
export const OTHER_WRITERS = '(other)'

/** A label value of at most MAX_LABEL_CHARS characters (whole code points: a cut never splits a character). */
function boundedLabel(value: string): string {
  if (value.length <= MAX_LABEL_CHARS) return value
  return Array.from(value).slice(0, MAX_LABEL_CHARS).join('')
}

interface TotalRow {
  migration: string
  application_name: string
  role: string
  op: string
  writes: string
  last_seen: string
}

/** What a registry's counter already holds, shared by every exporter on it (two Cutovers on one registry never count twice). */
interface Exported {
  readonly totals: Map<string, number>
  readonly writers: Map<string, Set<string>>
}
const exportedOn = new WeakMap<Instruments, Exported>()

export class BypassWriteExport {
  readonly #db: Queryable
  readonly #query: string
  readonly #instruments: Instruments
  readonly #logger: Logger
  /** Exported so far per label set, so each refresh increments by what is new. */
  readonly #exported: Exported
  #timer: NodeJS.Timeout | undefined
  #inFlight: Promise<void> = Promise.resolve()
  #hasWarned = false

  constructor(options: {
    readonly db: Queryable
    readonly schema: string
    readonly instruments: Instruments
    readonly logger: Logger
  }) {
    this.#db = options.db
    this.#query = `SELECT migration, application_name, role, op, writes::text, extract(epoch FROM last_seen)::float8::text AS last_seen FROM ${controlSchema(options.schema).quoted}.bypass_write_totals()`
    this.#instruments = options.instruments
    this.#logger = options.logger
    let exported = exportedOn.get(options.instruments)
    if (!exported) {
      exported = { totals: new Map(), writers: new Map() }
      exportedOn.set(options.instruments, exported)
    }
    this.#exported = exported
  }

  /** Refreshes now, then every `intervalMs` (0: never on its own). */
  start(intervalMs: number): void {
    void this.refresh()
    if (intervalMs > 0) this.#timer = setInterval(() => void this.refresh(), intervalMs).unref()
  }

  /** Stops refreshing and waits for a refresh in flight. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#inFlight
  }

  /** Reads the totals and brings the counter up to them (one refresh at a time). Never throws (a failure is logged once). */
  refresh(): Promise<void> {
    this.#inFlight = this.#inFlight.then(() => this.#refresh())
    return this.#inFlight
  }

  async #refresh(): Promise<void> {
    let rows: TotalRow[]
    try {
      rows = (await this.#db.query<TotalRow>(this.#query)).rows
    } catch (error) {
      if (!this.#hasWarned)
        this.#logger.warn(
          { err: error },
          "cannot read the bypass net's totals (cutover_bypass_writes_total stays as it is); run cutover init if the control schema is older than sql/0008",
        )
      this.#hasWarned = true
      return
    }
    const lastWrite = new Map<string, number>()
    for (const r of rows) lastWrite.set(r.migration, Math.max(lastWrite.get(r.migration) ?? 0, Number(r.last_seen)))
    for (const [migration, at] of lastWrite) this.#instruments.bypassLastWrite.set({ migration }, at)
    const totals = new Map<
      string,
      { labels: Record<'migration' | 'application_name' | 'role' | 'op', string>; writes: number }
    >()
    for (const r of rows) {
      const writers = this.#exported.writers.get(r.migration) ?? new Set<string>()
      this.#exported.writers.set(r.migration, writers)
      const applicationName = boundedLabel(r.application_name)
      const role = boundedLabel(r.role)
      const writer = `${applicationName}\u0000${role}`
      if (!writers.has(writer) && writers.size < MAX_WRITERS) writers.add(writer)
      const labels = writers.has(writer)
        ? { migration: r.migration, application_name: applicationName, role, op: r.op }
        : { migration: r.migration, application_name: OTHER_WRITERS, role: OTHER_WRITERS, op: r.op }
      const key = Object.values(labels).join('\u0000')
      const entry = totals.get(key) ?? { labels, writes: 0 }
      entry.writes += Number(r.writes)
      totals.set(key, entry)
    }
    for (const [key, { labels, writes }] of totals) {
      const delta = writes - (this.#exported.totals.get(key) ?? 0)
      if (delta > 0) {
        this.#instruments.bypassWrites.labels(labels).inc(delta)
        this.#exported.totals.set(key, writes)
      }
    }
  }
}
