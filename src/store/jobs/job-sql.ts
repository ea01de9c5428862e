/** The control-schema SQL of jobs (their rows, chunk leases and events). */
import { controlSchema } from '../../db/control-schema.js'

/** Lease times are passed as milliseconds. */
const LEASE_UNTIL = "clock_timestamp() + $LEASE * interval '1 millisecond'"

const JOB_COLUMNS = `id::text AS id, kind, status, low_key, high_key, cursor_key, cursor_exhausted, total_estimate::text AS total_estimate,
  rows_done::text AS rows_done, rows_differing::text AS rows_differing, chunk_rows, details, started_by,
  extract(epoch FROM coalesce(finished_at, clock_timestamp()) - started_at)::float8 AS elapsed_seconds`

const CHUNK_COLUMNS = 'c.chunk_no, c.low_key, c.high_key, c.attempts, j.low_key AS job_low_key'

export type JobSql = ReturnType<typeof jobSql>

/** The job's details with the counters of the jsonb parameter `param` added to its own (a missing counter counts 0). */
function addCounters(param: string): string {
  return `details || (SELECT coalesce(jsonb_object_agg(t.k, coalesce((details ->> t.k)::numeric, 0) + t.v::numeric), '{}')
                                FROM jsonb_each_text(${param}::jsonb) AS t(k, v))`
}

export function jobSql(schema: string) {
  const s = controlSchema(schema).quoted
  const lease = (n: number): string => LEASE_UNTIL.replace('$LEASE', `$${n}`)
  return {
    /** $1 migration, $2 kind. */
    findRunning: `SELECT ${JOB_COLUMNS} FROM ${s}.jobs WHERE migration = $1 AND kind = $2 AND status = 'running'`,
    /** $1 id. */
    read: `SELECT ${JOB_COLUMNS} FROM ${s}.jobs WHERE id = $1`,
    /** $1 migration, $2 kind, $3 low, $4 high (jsonb), $5 estimate, $6 chunk rows, $7 actor. Nothing returned when one is already running. */
    insert: `INSERT INTO ${s}.jobs (migration, kind, low_key, high_key, cursor_exhausted, total_estimate, chunk_rows, started_by)
      VALUES ($1, $2, $3::jsonb, $4::jsonb, $3::jsonb IS NULL, $5::bigint, $6, $7)
      ON CONFLICT (migration, kind) WHERE status = 'running' DO NOTHING
      RETURNING ${JOB_COLUMNS}`,
    /** $1 id, $2 chunk rows. */
    setChunkRows: `UPDATE ${s}.jobs SET chunk_rows = $2, updated_at = clock_timestamp() WHERE id = $1`,
    /**
     * The first round trip of a chunk's claim: BEGIN and the job row's lock, which serialises the claims of every
     * worker of the job, as one simple query (no parameters there: the id is a quoted literal,
     * `client.escapeLiteral(id)`); the job row is its third result. The claim commits without waiting for its WAL
     * flush: nothing is copied or counted under it until the chunk's own transaction commits, and that commit's
     * flush covers the claim's earlier WAL. A crash before then loses the claim and nothing else (the cursor stays
     * where it was; the next run cuts the chunk again).
     */
    claimBegin: (idLiteral: string): string =>
      `BEGIN; SET LOCAL synchronous_commit = off; SELECT status, low_key, high_key, cursor_key, cursor_exhausted, chunk_rows FROM ${s}.jobs WHERE id = ${idLiteral}::bigint FOR UPDATE`,
    /**
     * Cuts the next chunk in one statement, under the job row's lock taken by `claimBegin` in the same transaction
     * (this statement's snapshot is taken after that lock, so it sees every chunk cut before): `bound` is the
     * key-range statement whose one row's `key` (a text array) is the chunk's upper key, or none past the job's
     * high key; its parameters come first, $1..$m. Then $m+1 id, $m+2 the chunk's low key (jsonb; null for the
     * first chunk), $m+3 the job's high key (jsonb), $m+4 worker, $m+5 lease ms. Inserts the leased chunk, moves
     * the cursor to its upper key (exhausted once that is the high key) and returns `chunk_no`, `attempts` and
     * `high_key`.
     */
    cutChunk: (bound: string, m: number): string => `WITH bound AS (
        SELECT coalesce((SELECT to_jsonb(b.key) FROM (${bound}) AS b), $${m + 3}::jsonb) AS upper
      ), chunk AS (
        INSERT INTO ${s}.job_chunks (job_id, chunk_no, low_key, high_key, leased_by, lease_until)
        SELECT $${m + 1}, (SELECT coalesce(max(chunk_no), 0) + 1 FROM ${s}.job_chunks WHERE job_id = $${m + 1}),
               $${m + 2}::jsonb, bound.upper, $${m + 4}, ${lease(m + 5)} FROM bound
        RETURNING chunk_no, attempts, high_key
      ), moved AS (
        UPDATE ${s}.jobs SET cursor_key = bound.upper, cursor_exhausted = bound.upper = $${m + 3}::jsonb, updated_at = clock_timestamp()
          FROM bound WHERE id = $${m + 1}
      )
      SELECT chunk_no, attempts, high_key FROM chunk`,
    /** $1 id, $2 worker, $3 lease ms. Takes over the first chunk whose lease expired, skipping any another worker is taking. */
    reclaimExpired: `UPDATE ${s}.job_chunks AS c SET leased_by = $2, lease_until = ${lease(3)}, attempts = c.attempts + 1
      FROM ${s}.jobs AS j
      WHERE (c.job_id, c.chunk_no) = (SELECT job_id, chunk_no FROM ${s}.job_chunks
                                       WHERE job_id = $1 AND status = 'leased' AND lease_until < clock_timestamp()
                                       ORDER BY chunk_no LIMIT 1 FOR UPDATE SKIP LOCKED)
        AND j.id = c.job_id AND j.status = 'running'
      RETURNING ${CHUNK_COLUMNS}`,
    /** $1 id, $2 chunk, $3 worker, $4 lease ms. */
    extendLease: `UPDATE ${s}.job_chunks SET lease_until = ${lease(4)}
      WHERE job_id = $1 AND chunk_no = $2 AND leased_by = $3 AND status = 'leased'`,
    /** $1 id, $2 chunk, $3 worker. Lets the next claim take the chunk at once. */
    releaseLease: `UPDATE ${s}.job_chunks SET lease_until = clock_timestamp() - interval '1 millisecond'
      WHERE job_id = $1 AND chunk_no = $2 AND leased_by = $3 AND status = 'leased'`,
    /**
     * Completes the chunk (if this worker still holds its lease) and adds its tallies to the job, in one statement: $1 id, $2 chunk, $3 worker, $4 rows, $5 differing,
     * $6 counters (jsonb of numbers), $7 next chunk rows or null. No row returned (and nothing added): the lease
     * was taken over.
     */
    completeAndTally: `WITH done AS (
        UPDATE ${s}.job_chunks SET status = 'done', rows = $4, differing = $5, finished_at = clock_timestamp()
         WHERE job_id = $1 AND chunk_no = $2 AND leased_by = $3 AND status = 'leased'
        RETURNING 1
      )
      UPDATE ${s}.jobs SET rows_done = rows_done + $4, rows_differing = rows_differing + $5,
        details = ${addCounters('$6')},
        chunk_rows = coalesce($7, chunk_rows), updated_at = clock_timestamp()
      WHERE id = $1 AND EXISTS (SELECT 1 FROM done) RETURNING rows_done::text AS rows_done, total_estimate::text AS total_estimate`,
    /**
     * $1 id, $2 counters (jsonb of numbers): adds them to the job's details, in the transaction that did what they
     * count (a part of a chunk done on a connection of its own, chunk-parts.ts), so they are added exactly once
     * whether or not the chunk then completes.
     */
    addTallies: `UPDATE ${s}.jobs SET
        details = ${addCounters('$2')},
        updated_at = clock_timestamp()
      WHERE id = $1`,
    /** $1 id, $2 why the job waits (text), or null once it goes on: `throttled` in its details, which status shows. */
    setThrottled: `UPDATE ${s}.jobs SET details = CASE WHEN $2::text IS NULL THEN details - 'throttled' ELSE details || jsonb_build_object('throttled', $2::text) END,
        updated_at = clock_timestamp() WHERE id = $1`,
    /** $1 id. Chunks not done yet, and milliseconds until the first of their leases expires. */
    openChunks: `SELECT count(*)::int AS open,
        (extract(epoch FROM min(lease_until) - clock_timestamp()) * 1000)::float8 AS ms_to_expiry
      FROM ${s}.job_chunks WHERE job_id = $1 AND status = 'leased'`,
    /** $1 id. Only the one run that sees every chunk done finishes the job. */
    finish: `UPDATE ${s}.jobs SET status = 'done', finished_at = clock_timestamp(), updated_at = clock_timestamp()
      WHERE id = $1 AND status = 'running' AND cursor_exhausted
        AND NOT EXISTS (SELECT 1 FROM ${s}.job_chunks WHERE job_id = $1 AND status <> 'done')
      RETURNING ${JOB_COLUMNS}`,
    /** $1 id, $2 details to merge (jsonb). */
    fail: `UPDATE ${s}.jobs SET status = 'failed', finished_at = clock_timestamp(), updated_at = clock_timestamp(), details = details || $2::jsonb
      WHERE id = $1 AND status = 'running'`,
    /** The control schema, which writes the jobs' events. */
    control: controlSchema(schema),
  } as const
}
