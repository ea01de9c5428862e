/** A session holding a lock that a state change waits for, and how a message names it. */

/** A session holding a lock that a state change waits for, as pg_stat_activity shows it. */
export interface BlockingSession {
  readonly pid: number
  readonly application: string
  readonly user: string
  /** `active`, `idle in transaction`, … (empty when the role may not see it). */
  readonly state: string
  /** Age of its open transaction; null when not visible. */
  readonly transactionSeconds: number | null
  /** Its last statement, cut to 200 characters (empty when the role may not see it). */
  readonly query: string
}

/** `pid 123 (psql, user alice, idle in transaction for 12 s, last query: …)`. */
export function describeBlockers(blockers: readonly BlockingSession[]): string {
  if (blockers.length === 0) return 'another session (it could not be identified)'
  return blockers.map((b) => {
    const facts = [b.application || 'no application name', b.user ? `user ${b.user}` : '',
      b.state ? `${b.state}${b.transactionSeconds === null ? '' : ` for ${Math.round(b.transactionSeconds)} s`}` : '',
      b.query ? `last query: ${b.query.replace(/\s+/g, ' ').trim()}` : ''].filter(Boolean)
    return `pid ${b.pid} (${facts.join(', ')})`
  }).join(' and ')
}
