/** The transaction of a state change: its lock waits bounded, the sessions it waits for reported, StateLocked past the bound. */
import type pg from 'pg'
import type { BlockingSession } from '../../core/errors.js'
import { StateLocked } from '../../core/errors.js'
import { withTransaction } from '../../db/with-transaction.js'
import { isLockWait } from '../../db/pg-errors.js'
import type { PoolLike } from '../../db/queryable.js'
import { watchBlockers, type BlockerWatch } from './blocker-watch.js'
import { LOCK_TIMEOUT_ITEM, lockTimeoutValue } from '../../db/set-lock-timeout.js'

/** Reported while a state change waits for a lock. */
export interface StateLockWait {
  readonly migration: string
  readonly waitedMs: number
  readonly limitMs: number
  readonly blockers: readonly BlockingSession[]
}

export interface StateLockOptions {
  /** What the change is called in messages (`rollback`, `ramp`); default the event's kind. */
  readonly action?: string
  /** The longest a state change waits for a lock (default 30 s), then fails with StateLocked. */
  readonly lockWaitMs?: number
  /** Called once the change has waited about half a second, then whenever the blockers change and every 5 s. */
  readonly onLockWait?: (wait: StateLockWait) => void
}

export const DEFAULT_STATE_LOCK_WAIT_MS = 30_000

/**
 * Runs `body` in a transaction whose lock waits are bounded by `lockWaitMs`
 * (retried within it), reporting the blocking sessions while it waits; past
 * the bound it fails with StateLocked naming `subject` (a migration or a group).
 *
 * A long transaction holding the state row (an open psql session, a hung
 * process) must not make the change fail at once, nor hang it forever: the
 * change keeps its place in the lock queue, says every few seconds which
 * session it waits for, and after `lockWaitMs` gives up with StateLocked,
 * naming that session. A deadlock or serialization failure is retried within
 * the same bound. Nothing the application writes waits behind this queue:
 * only state changes lock the state row.
 */
export async function withStateLock<T>(
  pool: PoolLike,
  subject: string,
  action: string,
  lock: StateLockOptions,
  body: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const limitMs = lock.lockWaitMs ?? DEFAULT_STATE_LOCK_WAIT_MS
  const deadline = Date.now() + limitMs
  for (;;) {
    let watch: BlockerWatch | undefined
    try {
      return await withTransaction(pool, async (client) => {
        const { rows: me } = await client.query<{ pid: number }>(
          `SELECT pg_backend_pid() AS pid, ${LOCK_TIMEOUT_ITEM}`,
          [lockTimeoutValue(Math.max(1, deadline - Date.now()))],
        )
        watch = watchBlockers(pool, me[0]?.pid ?? 0, (blockers, waitedMs) =>
          lock.onLockWait?.({ migration: subject, waitedMs, limitMs, blockers }),
        )
        return await body(client)
      })
    } catch (error) {
      if (!isLockWait(error)) throw error
      if (Date.now() >= deadline - 50)
        throw new StateLocked(subject, action, limitMs, watch?.blockers() ?? [], { cause: error })
    } finally {
      watch?.stop()
    }
  }
}
