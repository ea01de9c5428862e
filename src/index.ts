/**
 * cutover: move a live PostgreSQL table to a new shape with no downtime.
 * See README.md for a runnable example.
 */
/** Connects to the database and hands out a DAL per migration. */
export { Cutover, type CutoverOptions } from './cutover/cutover.js'
/** The DAL of one migration: insert, insertMany, update, upsert, delete, get. */
export {
  MigrationDal,
  type Row,
  type Key,
  type CallOptions,
  type ReadOptions,
  type WriteOptions,
} from './dal/migration-dal.js'
export { GroupDal } from './dal/group-dal.js'
export type { GroupTables, GroupSelectBuilder } from './dal/group-select.js'
export type { ComparisonMode } from './dal/read-pipeline.js'
/** The DAL's row types from your Kysely database type `DB` and legacy table `TB` (`Cutover.connect<DB>`, `migration<TB>`). */
export type {
  TableName,
  SelectedRow,
  InsertRow,
  UpdatePatch,
  KeyColumns,
  TableKey,
  TableSelectBuilder,
} from './dal/table-types.js'
/** Unleash-compatible sticky bucket of a routing key (1…100). */
export { rolloutBucket, isInRollout } from './core/bucket.js'
/** Canonical row hashing used by every comparison. */
export { rowHash } from './core/row-hash.js'
/** Phases and their behaviour. */
export { PHASES, phasePolicy, type Phase, type MigrationState, type Side } from './core/phases.js'
/** Migration definitions: types, validation, loading and registration. */
export type { MigrationDefinition } from './core/definition.js'
export { parseConfig, parseMigration } from './core/parse-config.js'
export { loadConfig } from './config/load-config.js'
export { registerMigrations, type RegisterOptions, type RegisteredMigration } from './actions/register.js'
export type { MappingChange } from './core/mapping-diff.js'
/** Applies the control schema (what `cutover init` runs). */
export { applyControlSchema, DEFAULT_SCHEMA } from './store/control-schema/apply-control-schema.js'
/**
 * Operator actions as library calls, the same functions the CLI calls: the same gates
 * (`force` overrides an evidence gate, recorded; `complete` needs `confirm: true` whatever `force` says),
 * the same events, and the Unleash toggle kept in step by `ramp` and `rollback`.
 */
export { advance, type AdvanceOptions } from './actions/advance.js'
export { ramp, RampNotMirrored, type RampOptions, type RampResult } from './actions/ramp.js'
export { rollback, type RollbackOptions, type RollbackResult } from './actions/rollback.js'
export type { ActionOptions, ActionResult, UnleashMirrorOptions } from './actions/action-options.js'
export type { UnacknowledgedInstance, Acknowledgements } from './actions/acknowledgements.js'
export {
  installBypassNet,
  removeBypassNet,
  NetLocked,
  type InstallNetOptions,
  type InstallNetResult,
  type NetOptions,
} from './actions/bypass-net.js'
export type { InstalledNet } from './store/bypass/bypass-net.js'
export { doctorApply, type DoctorApplyOptions, type DoctorApplyResult } from './actions/doctor-apply.js'
/** Precheck: every legacy row the mapping cannot carry, by class (what `cutover precheck` runs; a clean one of the current definition is the evidence entering dual_write needs). */
export { runPrecheck, type PrecheckOptions, type PrecheckResult } from './jobs/entry/precheck.js'
export type { FailureClass, FailureKind } from './core/precheck-classes.js'
/** The jobs: backfill and verify (what `cutover backfill` and `cutover verify` run; their results are the evidence the gates read). */
export { runBackfill, type BackfillOptions, type BackfillResult } from './jobs/entry/backfill.js'
/** Where the backfill's application-p99 throttle reads the p99: the DAL's registry in this process, or a Prometheus query. */
export type {
  AppLatencyOptions,
  InProcessAppLatency,
  PrometheusAppLatency,
} from './jobs/throttles/app-latency-source.js'
export { runVerify, type VerifyOptions, type VerifyResult } from './jobs/entry/verify.js'
export { runBackfills, runVerifies, runPrechecks, runRepairs, backfillOrder } from './jobs/groups/group-jobs.js'
/** Calibration: the comparison's own noise floor on live rows (what `cutover calibrate` runs). */
export {
  runCalibration,
  type CalibrateOptions,
  type CalibrationResult,
  type NoisyColumn,
} from './jobs/entry/calibrate.js'
/** What `cutover doctor` checks, and the SQL fixes it can apply. */
export { runDoctor, applyFindings, type DoctorInput, type DoctorReport } from './store/doctor/run-doctor.js'
export type { Finding, DoctorCheck, DoctorThresholds } from './store/doctor/finding.js'
/** Retiring the legacy table after complete, and undoing it. */
export {
  retire,
  unretire,
  retireTarget,
  unretireTarget,
  type RetireOptions,
  type RetireResult,
  type UnretireOptions,
  type UnretireResult,
} from './actions/retire.js'
export { ForeignKeysCannotMove, RetireLocked } from './store/retire/retire-errors.js'
/** How many routing keys a change of the read percentage moves, from the running instances' samples. */
export { estimateKeysMoved, type KeysMoved } from './store/state/routing-sample-sql.js'
export { UnleashAdminFailed } from './flags/unleash-admin-failed.js'
/** Typed errors, each with a one-line message and an exit code. */
export * from './core/errors.js'
/** The prom-client instruments. */
export { instrumentsFor, type Instruments } from './metrics/instruments.js'
/** Serves a registry on /metrics for applications that have no endpoint. */
export { serveMetrics, type MetricsServer } from './metrics/metrics-server.js'
/** Schema parity: what the shadow table lacks that the legacy table has (the `complete` gate refuses while any is left), and applying the SQL that adds it. */
export {
  findParityGaps,
  applyParityFixes,
  type ParityOptions,
  type ApplyParityOptions,
  type ParityApplyResult,
} from './store/parity/schema-parity.js'
export type { ParityGap, ParityItem } from './core/parity/index.js'
