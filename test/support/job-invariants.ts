/**
 * What a crash (a killed process, a terminated connection, a restarted server) must never break, for the
 * orders fixture (one bigint key, `orders` and `orders_v2`): the control schema's jobs and chunk leases, and
 * the agreement of the two tables.
 */
import type pg from 'pg'

export interface Queryable {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>
}

/** Keys of the range of a chunk: after the previous chunk's high key (from the job's low key for the first), up to its own. */
const IN_CHUNK = (
  column: string,
): string => `(CASE WHEN c.low_key IS NULL THEN ${column} >= (j.low_key ->> 0)::bigint ELSE ${column} > (c.low_key ->> 0)::bigint END)
  AND ${column} <= (c.high_key ->> 0)::bigint`

/**
 * Every way the jobs of `migration` contradict themselves, as sentences (empty when consistent):
 * more than one running job of a kind; chunks that do not tile the job's range in order (a gap, an
 * overlap: a range done twice); a job's rows_done or rows_differing that is not the sum of its done
 * chunks; a done job with open chunks. With `coverage`, the latest job of each kind named must also
 * have counted, in each done chunk, exactly the keys its range holds now (backfill: legacy keys;
 * verify: keys of either table), which holds while no key of the range is inserted or deleted.
 */
export async function jobProblems(
  db: Queryable,
  migration: string,
  coverage: readonly ('backfill' | 'verify')[] = [],
): Promise<string[]> {
  const problems: string[] = []
  for (const r of await db.query<{ kind: string; n: number }>(
    "SELECT kind, count(*)::int AS n FROM cutover.jobs WHERE migration = $1 AND status = 'running' GROUP BY kind HAVING count(*) > 1",
    [migration],
  )) {
    problems.push(`${r.n} running ${r.kind} jobs`)
  }
  const tiles = await db.query<{ id: string; chunk_no: number; problem: string }>(
    `
    WITH c AS (
      SELECT c.*, j.low_key AS job_low, j.high_key AS job_high, row_number() OVER w AS n, lag(c.high_key) OVER w AS prev_high
        FROM cutover.job_chunks c JOIN cutover.jobs j ON j.id = c.job_id WHERE j.migration = $1
      WINDOW w AS (PARTITION BY c.job_id ORDER BY c.chunk_no))
    SELECT job_id::text AS id, chunk_no, CASE
        WHEN n <> chunk_no THEN 'chunk numbers have a gap'
        WHEN n = 1 AND low_key IS NOT NULL THEN 'the first chunk does not start at the job''s low key'
        WHEN n > 1 AND low_key IS DISTINCT FROM prev_high THEN 'does not start where the previous chunk ended (a gap or an overlap)'
        WHEN (high_key ->> 0)::numeric > (job_high ->> 0)::numeric THEN 'ends beyond the job''s high key'
        WHEN n > 1 AND (high_key ->> 0)::numeric <= (prev_high ->> 0)::numeric THEN 'is empty or runs backwards'
        WHEN status = 'done' AND rows IS NULL THEN 'is done without a row count'
      END AS problem
      FROM c`,
    [migration],
  )
  for (const t of tiles) if (t.problem) problems.push(`job ${t.id} chunk ${t.chunk_no} ${t.problem}`)
  const sums = await db.query<{
    id: string
    kind: string
    status: string
    rows_done: string
    chunk_rows: string
    rows_differing: string
    chunk_differing: string
    open: number
    exhausted: boolean
    ends_at_high: boolean
  }>(
    `
    SELECT j.id::text, j.kind, j.status, j.rows_done::text, coalesce(sum(c.rows) FILTER (WHERE c.status = 'done'), 0)::text AS chunk_rows,
           j.rows_differing::text, coalesce(sum(c.differing) FILTER (WHERE c.status = 'done'), 0)::text AS chunk_differing,
           count(*) FILTER (WHERE c.status <> 'done')::int AS open, j.cursor_exhausted AS exhausted,
           j.low_key IS NULL OR max((c.high_key ->> 0)::numeric) = (j.high_key ->> 0)::numeric AS ends_at_high
      FROM cutover.jobs j LEFT JOIN cutover.job_chunks c ON c.job_id = j.id WHERE j.migration = $1 GROUP BY j.id`,
    [migration],
  )
  for (const s of sums) {
    if (s.rows_done !== s.chunk_rows)
      problems.push(`${s.kind} job ${s.id} has rows_done ${s.rows_done} but its done chunks hold ${s.chunk_rows}`)
    if (s.rows_differing !== s.chunk_differing)
      problems.push(
        `${s.kind} job ${s.id} has rows_differing ${s.rows_differing} but its done chunks hold ${s.chunk_differing}`,
      )
    if (s.status === 'done' && (s.open > 0 || !s.exhausted || !s.ends_at_high))
      problems.push(
        `${s.kind} job ${s.id} is done with ${s.open} open chunks, its range ${s.exhausted && s.ends_at_high ? '' : 'not '}fully cut`,
      )
  }
  for (const kind of coverage) {
    const counted =
      kind === 'backfill'
        ? `(SELECT count(*) FROM orders o WHERE ${IN_CHUNK('o.id')})`
        : `(SELECT count(*) FROM (SELECT o.id FROM orders o WHERE ${IN_CHUNK('o.id')} UNION SELECT s.id FROM orders_v2 s WHERE ${IN_CHUNK('s.id')}) AS u)`
    const wrong = await db.query<{ chunk_no: number; rows: string; actual: string }>(
      `
      SELECT c.chunk_no, c.rows::text, ${counted}::text AS actual
        FROM cutover.job_chunks c JOIN cutover.jobs j ON j.id = c.job_id
       WHERE j.id = (SELECT max(id) FROM cutover.jobs WHERE migration = $1 AND kind = $2) AND c.status = 'done'`,
      [migration, kind],
    )
    for (const w of wrong)
      if (w.rows !== w.actual)
        problems.push(`${kind} chunk ${w.chunk_no} counted ${w.rows} keys, its range holds ${w.actual}`)
  }
  return problems
}

/** Keys on one side only, and the row counts of both tables: equal counts and no such key mean no row lost or duplicated. */
export async function tableAgreement(
  db: Queryable,
): Promise<{ legacy: number; shadow: number; onlyLegacy: number; onlyShadow: number }> {
  const [row] = await db.query<{ legacy: number; shadow: number; only_legacy: number; only_shadow: number }>(`SELECT
      (SELECT count(*) FROM orders)::int AS legacy, (SELECT count(*) FROM orders_v2)::int AS shadow,
      (SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM orders_v2 s WHERE s.id = o.id))::int AS only_legacy,
      (SELECT count(*) FROM orders_v2 s WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = s.id))::int AS only_shadow`)
  return {
    legacy: row?.legacy ?? -1,
    shadow: row?.shadow ?? -1,
    onlyLegacy: row?.only_legacy ?? -1,
    onlyShadow: row?.only_shadow ?? -1,
  }
}

export interface JobView {
  readonly id: string
  readonly status: string
  readonly rowsDone: number
  /** Every chunk of the range has been handed out: the last ones are in flight. */
  readonly isExhausted: boolean
}

/** The running (or, with none running, latest) job of a kind. */
export async function jobOf(
  db: Queryable,
  migration: string,
  kind: 'backfill' | 'verify',
): Promise<JobView | undefined> {
  const [row] = await db.query<{ id: string; status: string; rows_done: string; cursor_exhausted: boolean }>(
    `SELECT id::text, status, rows_done::text, cursor_exhausted FROM cutover.jobs WHERE migration = $1 AND kind = $2 ORDER BY status = 'running' DESC, id DESC LIMIT 1`,
    [migration, kind],
  )
  return row
    ? { id: row.id, status: row.status, rowsDone: Number(row.rows_done), isExhausted: row.cursor_exhausted }
    : undefined
}

/**
 * Whether a running job has gone `target` rows, or is on its last chunks (chunks adapt toward 200 ms,
 * so one may cover what is left): the moment to interrupt it, before it finishes.
 */
export async function hasReached(
  db: Queryable,
  migration: string,
  kind: 'backfill' | 'verify',
  target: number,
): Promise<boolean> {
  const job = await jobOf(db, migration, kind)
  return job !== undefined && job.status === 'running' && (job.rowsDone >= target || job.isExhausted)
}
