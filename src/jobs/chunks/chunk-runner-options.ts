/** What a job gives the chunk engine (run-chunks.ts) and what the engine tells its work and its caller. */
import type pg from 'pg'
import type { PoolLike } from '../../db/queryable.js'
import type { SessionSettings } from '../../core/session-settings.js'
import type { JobClock } from '../harness/job-clock.js'
import type { JobKind } from '../harness/job-failed.js'
import type { JobLogger } from '../harness/job-logger.js'
import type { JobSql } from '../../store/jobs/job-sql.js'
import type { KeyRange } from './key-range.js'
import type { KeyRangeSql } from './key-range-sql.js'
import type { DatabaseThrottleCheck, ThrottleReason } from '../throttles/database-throttle.js'

/** What one chunk's work did. */
export interface ChunkOutcome {
  /** Rows the chunk covered: added to the job's rows_done. */
  readonly rows: number
  /** Rows found differing (verify): added to rows_differing. */
  readonly differing: number
  /** Counters added into the job's details, such as `{ copied: 12 }`. */
  readonly tallies: Readonly<Record<string, number>>
}

/** What a chunk's work is told besides its range. */
export interface ChunkAttempt {
  readonly isAfterConflict: boolean
  /** About how many legacy keys the chunk holds: what its cut asked for, or this worker's chunk size for a chunk taken over. */
  readonly expectedRows: number
  /** The chunk transaction's settings (`BEGIN; SET LOCAL …`), for work it hands to another connection. */
  readonly begin: string
  keepLease(): Promise<void>
}

/** Reported after each chunk commits. */
export interface ChunkProgress {
  readonly jobId: string
  readonly chunkNo: number
  readonly range: KeyRange
  readonly outcome: ChunkOutcome
  /** The job's rows done so far, by every worker and run. */
  readonly rowsDone: number
  readonly totalEstimate: number | null
  readonly chunkMs: number
  /** The size the next chunk will have (after adaptation). */
  readonly chunkRows: number
}

export interface ChunkRunnerOptions {
  readonly pool: PoolLike
  readonly migration: string
  readonly kind: JobKind
  readonly jobId: string
  readonly sql: JobSql
  readonly keys: KeyRangeSql
  readonly workers: number
  readonly chunkRows: number
  readonly leaseMs: number
  readonly lockTimeoutMs: number
  /** The migration's session settings, set in each chunk's transaction (core/session-settings.ts). */
  readonly sessionSettings?: SessionSettings | undefined
  readonly maxLockRetries: number
  /** 0 keeps the chunk size fixed. */
  readonly targetChunkMs: number
  /** The largest chunk the adaptation may reach (default 50,000 rows). */
  readonly maxChunkRows?: number
  readonly maxRowsPerSecond: number | undefined
  /** Asked before each chunk; while it gives a reason, no worker of this process starts a chunk. */
  readonly databaseThrottle: DatabaseThrottleCheck | undefined
  /** Called when the job starts waiting on the database throttle (with its reason) and when it goes on (null). */
  onThrottle?(reason: ThrottleReason): void
  readonly signal: AbortSignal | undefined
  readonly clock: JobClock
  readonly logger: JobLogger
  /** What a lock wait in this job's chunks waits on, for the log line. */
  readonly waitsOn: string
  /**
   * The chunk's statement(s), run inside the chunk's transaction. Throwing {@link ChunkConflict} rolls the
   * transaction back and runs the chunk again at once with `isAfterConflict` (once per chunk). Work that may
   * outlast the lease calls `keepLease` between its statements: it extends the lease and, until the chunk's
   * transaction ends, holds the chunk's row, so no other worker can take the chunk over meanwhile.
   */
  work(client: pg.PoolClient, range: KeyRange, attempt: ChunkAttempt): Promise<ChunkOutcome>
  onLockRetry(): void
  onChunkDone(progress: ChunkProgress): void
}
