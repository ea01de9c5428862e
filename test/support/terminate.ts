/** Kills a CLI job's database connection in the middle of one of its statements, as an operator's pg_terminate_backend would. */
import type { Queryable } from './job-invariants.js'
import { until } from './until.js'

/**
 * Once `when` resolves true, terminates every backend of the CLI (application name `cutover-cli`) that is
 * running a statement starting with `statementStart`, polling every 20 ms until one was terminated or
 * `until` settles (the process ended first). Resolves to the number terminated.
 */
export async function terminateMidStatement(
  db: Queryable,
  statementStart: string,
  when: () => Promise<boolean>,
  until: Promise<unknown>,
): Promise<number> {
  let ended = false
  void until.finally(() => {
    ended = true
  })
  while (!ended) {
    if (await when().catch(() => false)) {
      const rows = await db.query<{ terminated: boolean }>(
        `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'cutover-cli' AND state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`,
        [`${statementStart}%`],
      )
      const terminated = rows.filter((r) => r.terminated).length
      if (terminated > 0) return terminated
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return 0
}

/**
 * Waits until no backend of the CLI is left: a SIGKILLed run's statement goes on in its backend
 * until the server notices the client is gone, and a terminate aimed at the next run must not hit it.
 */
export async function cliBackendsGone(db: Queryable): Promise<void> {
  await until(
    async () =>
      (
        await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cutover-cli'",
        )
      )[0]?.n === 0,
    60_000,
    "the killed run's backends gone",
  )
}
