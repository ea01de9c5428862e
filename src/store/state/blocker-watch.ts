/** Which sessions block a backend, watched from a second connection over pg_stat_activity while a state change waits. */
import type { BlockingSession } from '../../core/errors.js'
import type { PoolLike } from '../../db/queryable.js'

const BLOCKERS_SQL = `SELECT a.pid, coalesce(a.application_name, '') AS application, coalesce(a.usename::text, '') AS "user",
    coalesce(a.state, '') AS state, extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS transaction_seconds,
    left(coalesce(a.query, ''), 200) AS query
  FROM pg_stat_activity AS a WHERE a.pid = ANY (pg_blocking_pids($1)) ORDER BY a.pid`

interface BlockerRow {
  pid: number
  application: string
  user: string
  state: string
  transaction_seconds: number | null
  query: string
}

export interface BlockerWatch {
  /** The blockers last seen (empty when never seen). */
  readonly blockers: () => readonly BlockingSession[]
  readonly stop: () => void
}

/**
 * Watches, from a second connection of the pool, which sessions block the
 * backend `pid`: first after `firstMs`, then every second, reporting when the
 * blockers change and every 5 s. It never delays the waiting statement: with
 * no spare connection it just learns nothing.
 */
export function watchBlockers(
  pool: PoolLike,
  pid: number,
  report: (blockers: readonly BlockingSession[], waitedMs: number) => void,
  firstMs = 500,
): BlockerWatch {
  const started = Date.now()
  let last: readonly BlockingSession[] = []
  let lastReportAt = 0
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const look = async (): Promise<void> => {
    const client = await pool.connect()
    const onError = (): void => undefined
    client.on('error', onError)
    try {
      if (stopped) return
      const { rows } = await client.query<BlockerRow>(BLOCKERS_SQL, [pid])
      if (stopped || rows.length === 0) return
      const blockers = rows.map((r) => ({
        pid: r.pid,
        application: r.application,
        user: r.user,
        state: r.state,
        transactionSeconds: r.transaction_seconds,
        query: r.query,
      }))
      const isNew = blockers.map((b) => b.pid).join() !== last.map((b) => b.pid).join()
      last = blockers
      if (isNew || Date.now() - lastReportAt >= 5000) {
        lastReportAt = Date.now()
        report(blockers, Date.now() - started)
      }
    } finally {
      client.removeListener('error', onError)
      client.release()
    }
  }
  const tick = (): void => {
    void look()
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, 1000)
      })
  }
  timer = setTimeout(tick, firstMs)
  return {
    blockers: (): readonly BlockingSession[] => last,
    stop: (): void => {
      stopped = true
      clearTimeout(timer)
    },
  }
}
