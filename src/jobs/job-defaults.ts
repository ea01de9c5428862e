/** The default settings of the jobs (backfill, verify, repair, precheck, calibrate): loads nothing, so `cutover --help` shows them cheaply. */

/** Rows in a new job's first chunk. */
export const DEFAULT_CHUNK_ROWS = 1000
/** The chunk time the chunk size adapts toward (backfill and repair: it holds FOR SHARE locks that long). */
export const DEFAULT_TARGET_CHUNK_MS = 200
/**
 * Verify's: it locks no application row, so longer chunks cost nothing but a snapshot held a little longer,
 * and spread the per-chunk round trips (lease claim, completion) over more rows.
 */
export const DEFAULT_VERIFY_TARGET_CHUNK_MS = 1000
/**
 * Verify's largest chunk. Its counting pass keeps no per-row state (a hash join spills to disk in batches), so
 * memory stays flat; large chunks let PostgreSQL run each as one parallel hash join, as it runs a whole-table diff
 * (five chunks of 200,000 keys took 1.5–2× the time of one of 1,000,000 on the same keys).
 */
export const MAX_VERIFY_CHUNK_ROWS = 1_000_000
/**
 * Keys per statement of verify's recording pass (run only for a chunk with differences), which aggregates every
 * differing row of its range: a larger chunk is recorded in ranges of this many legacy keys, so its memory stays
 * bounded however many rows differ.
 */
export const MAX_VERIFY_RECORD_ROWS = 200_000
/**
 * Connections a verify worker counts each chunk on at once. A key-range FULL JOIN is planned as one serial merge
 * join, so without this one worker uses one core where a whole-table diff uses three processes (PostgreSQL's
 * default of two parallel workers per query, and its leader); two measured 1.8× one on a 2-core server.
 */
export const DEFAULT_VERIFY_PARALLEL = 2
/**
 * Connections a backfill worker copies each chunk on at once. PostgreSQL runs no INSERT in parallel, so one
 * connection is one core; two workers measured 0.96–1.32 of one `INSERT … SELECT` where one measured 0.66–0.94.
 */
export const DEFAULT_BACKFILL_PARALLEL = 2
/** `lock_timeout` of a chunk's (or a repaired key's) transaction. */
export const DEFAULT_LOCK_TIMEOUT_MS = 1000
/** How long a claimed chunk stays reserved for its worker before another may take it over. */
export const DEFAULT_LEASE_MS = 15_000
/** Retries of a chunk after lock timeouts before the run fails. */
export const DEFAULT_MAX_LOCK_RETRIES = 30
/** Differing keys a verify lists in its result. */
export const DEFAULT_DIFFERENCE_LIMIT = 100
/** Example keys a precheck class lists by default. */
export const DEFAULT_PRECHECK_EXAMPLES = 5
/** Live legacy rows a calibration compares by default (at most). */
export const DEFAULT_CALIBRATION_SAMPLE = 1000
/** The DAL's read p99 over the last minute, across every process Prometheus scrapes. */
export const READ_P99_QUERY =
  'histogram_quantile(0.99, sum by (le) (rate(cutover_operation_duration_seconds_bucket{operation="read"}[1m])))'
