/** What an application passes to `Cutover.connect`, and the check of it made before anything connects. */
import type pg from 'pg'
import type { Registry } from 'prom-client'
import { ConfigInvalid } from '../core/errors.js'
import type { UnleashOptions } from '../flags/unleash-provider.js'
import type { Logger } from '../logger.js'
import type { ComparisonMode } from '../dal/read-pipeline.js'
import { STATEMENT_MODES, type StatementMode } from '../dal/statement-policy.js'

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

export const DEFAULT_COMPARISONS_IN_FLIGHT = 2

/** Refuses options no connection could honour, before anything connects. */
export function checkCutoverOptions(options: CutoverOptions): void {
  if (options.statementMode !== undefined && !STATEMENT_MODES.includes(options.statementMode)) {
    throw new ConfigInvalid(
      undefined,
      `statementMode "${String(options.statementMode)}" is not one of named, unnamed, auto; leave it out for auto`,
    )
  }
}
