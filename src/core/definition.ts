/** The shape of a migration definition, as validated and stored in the control schema. */
import type { QualifiedName } from './identifiers.js'
import type { SessionSettings } from './session-settings.js'

export type SecondaryErrorPolicy = 'fail' | 'record'
export type RoutingProviderName = 'control' | 'unleash'

/** One side of the migration: a table and its key columns (in key order). */
export interface TableSide {
  readonly table: QualifiedName
  readonly key: readonly string[]
}

export interface RoutingConfig {
  readonly provider: RoutingProviderName
  /** Unleash toggle name; default `cutover.<migration>.shadow-reads`. */
  readonly toggle?: string
}

export interface GuardrailConfig {
  /** Roll back when more divergences than this are seen per minute over the window; 0 disables. */
  readonly maxDivergencesPerMinute: number
  /** Roll back when shadow p99 ÷ legacy p99 of reads exceeds this over the window; 0 disables. */
  readonly maxP99Ratio: number
  /** Length of the window the bounds are measured over. */
  readonly windowSeconds: number
  /** Fewer samples than this on either side never trip the latency bound. */
  readonly minSamples: number
}

/** A validated migration definition. Column names are exact (never case-folded). */
export interface MigrationDefinition {
  readonly name: string
  readonly legacy: TableSide
  readonly shadow: TableSide
  /** Shadow column → SQL expression over legacy columns (only what differs from same-name). */
  readonly forward: Readonly<Record<string, string>>
  /** Legacy column → SQL expression over shadow columns (only what differs from same-name). */
  readonly backward: Readonly<Record<string, string>>
  /** Shadow column → normaliser (`timestamp_ms`, `trim`, `numeric:2`, …). */
  readonly compare: Readonly<Record<string, string>>
  readonly onSecondaryError: SecondaryErrorPolicy
  readonly routing: RoutingConfig
  /** Share of reads compared in `ramp` (0…1); `shadow_read` compares every read unless `shadowReadSample` says otherwise. */
  readonly compareSample: number
  readonly shadowReadSample: number
  /** Reads at 100 % with no new divergence needed before `shadow_primary`. */
  readonly soakSeconds: number
  /** Time in `complete` before `cutover retire` may rename the legacy table (default one day). */
  readonly retireSoakSeconds: number
  readonly guardrails: GuardrailConfig
  /**
   * The session settings its mapping is evaluated under (TimeZone, DateStyle, IntervalStyle, lc_monetary,
   * extra_float_digits), set transaction-locally by every statement cutover runs. `register` records those the
   * config leaves out from its own session, so a registered definition carries all five.
   */
  readonly session?: SessionSettings
  /**
   * The migration group it belongs to (the config's `groups` list), if any: its
   * phase and read percentage move only with the group's, and its routing
   * bucket is the group's, so a routing key reads every member from one side.
   */
  readonly group?: string
  /**
   * Schemas whose functions, operators and types a mapping expression may name
   * unqualified, besides pg_catalog (default none: never public or pg_temp
   * implicitly). A name in any other schema is written qualified.
   */
  readonly trustedSchemas: readonly string[]
  /**
   * Each `forward` and `backward` expression as the server resolved it at
   * registration (sql/0010 register_definition): every name outside pg_catalog
   * qualified, every argument's type explicit. Stored definitions carry it; what
   * the DAL, the jobs and the net evaluate. Absent in a config file.
   */
  readonly resolved?: ResolvedExpressions
}

/** The server-resolved text of each explicit mapping expression, by direction and target column. */
export interface ResolvedExpressions {
  readonly forward: Readonly<Record<string, string>>
  readonly backward: Readonly<Record<string, string>>
}

export const DEFAULT_GUARDRAILS: GuardrailConfig = {
  maxDivergencesPerMinute: 0,
  maxP99Ratio: 0,
  windowSeconds: 60,
  minSamples: 50,
}

export const MIGRATION_NAME_PATTERN = /^[a-z][a-z0-9_]*$/
