/**
 * Watches pg_stat_activity while a tool runs next to an application: which sessions wait on a lock, and
 * for whom, sampled every 20 ms. A wait seen in consecutive samples is one episode, as long as it lasted.
 */
import pg from 'pg'

export interface LockEpisode {
  readonly application: string
  readonly query: string
  /** From the first sample that saw it to the last. */
  readonly ms: number
}

export interface LockSamples {
  /** Waits of the tool's own sessions on a lock (it queued behind someone). */
  readonly toolWaits: readonly LockEpisode[]
  /** Waits of any other session on a lock the tool holds or is queued for (someone queued behind the tool). */
  readonly blockedByTool: readonly LockEpisode[]
  readonly samples: number
}

interface Row {
  pid: number
  app: string
  query: string
  waiting: boolean
  blocked_by_tool: boolean
}

export function sampleLocks(url: string, toolApplication: string): { stop(): Promise<LockSamples> } {
  const client = new pg.Client({ connectionString: url, application_name: 'lock-sampler' })
  client.on('error', () => undefined)
  let stopped = false
  let samples = 0
  const open = {
    tool: new Map<number, { first: number; last: number; row: Row }>(),
    blocked: new Map<number, { first: number; last: number; row: Row }>(),
  }
  const done = { tool: [] as LockEpisode[], blocked: [] as LockEpisode[] }
  const track = (kind: 'tool' | 'blocked', rows: Row[], now: number): void => {
    const seen = new Set(rows.map((r) => r.pid))
    for (const [pid, episode] of open[kind]) {
      if (!seen.has(pid)) {
        done[kind].push({ application: episode.row.app, query: episode.row.query, ms: episode.last - episode.first })
        open[kind].delete(pid)
      }
    }
    for (const row of rows) {
      const episode = open[kind].get(row.pid)
      if (episode) episode.last = now
      else open[kind].set(row.pid, { first: now, last: now, row })
    }
  }
  const loop = (async () => {
    await client.connect()
    while (!stopped) {
      const { rows } = await client.query<Row>(
        `
        SELECT a.pid, a.application_name AS app, left(a.query, 120) AS query, a.wait_event_type = 'Lock' AS waiting,
               EXISTS (SELECT 1 FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid)) AND b.application_name = $1) AS blocked_by_tool
          FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.wait_event_type = 'Lock'`,
        [toolApplication],
      )
      const now = Date.now()
      samples++
      track(
        'tool',
        rows.filter((r) => r.app === toolApplication),
        now,
      )
      track(
        'blocked',
        rows.filter((r) => r.app !== toolApplication && r.blocked_by_tool),
        now,
      )
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  return {
    async stop() {
      stopped = true
      await loop
      await client.end()
      track('tool', [], Date.now())
      track('blocked', [], Date.now())
      return { toolWaits: done.tool, blockedByTool: done.blocked, samples }
    },
  }
}

/** Episodes that lasted at least `ms`: a lock held for a moment by a statement at work is not a wait. */
export function longerThan(episodes: readonly LockEpisode[], ms: number): LockEpisode[] {
  return episodes.filter((e) => e.ms >= ms)
}
