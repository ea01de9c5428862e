/** Clients taken from a pool only when one comes at once: extra help for a job, never a wait that could deadlock it. */
import type pg from 'pg'
import type { PoolLike } from './queryable.js'

/**
 * Asks the pool for up to `count` more clients and keeps those that arrive
 * within `waitMs`. A pool at its limit queues the request; one answered late
 * is released at once, so giving up leaves nothing checked out. Each client
 * returned carries an 'error' listener (a dying connection must not crash the
 * process); hand it back with {@link returnBorrowed}.
 */
export async function borrowClients(pool: PoolLike, count: number, waitMs: number): Promise<pg.PoolClient[]> {
  if (count <= 0) return []
  const requests = Array.from({ length: count }, () => pool.connect())
  const timer = new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref())
  const arrived = await Promise.all(
    requests.map((request) =>
      Promise.race([
        request.then(
          (client) => client,
          () => null,
        ),
        timer.then(() => null),
      ]),
    ),
  )
  // A request still pending gets its client later: release it when it comes.
  requests.forEach((request, i) => {
    if (arrived[i] === null)
      void request.then(
        (client) => client.release(),
        () => undefined,
      )
  })
  return arrived
    .filter((client): client is pg.PoolClient => client !== null)
    .map((client) => {
      client.on('error', ignoreError)
      return client
    })
}

function ignoreError(): void {}

/** Returns a borrowed client to its pool, discarding it when its connection broke or its work failed. */
export function returnBorrowed(client: pg.PoolClient, isBroken: boolean): void {
  client.removeListener('error', ignoreError)
  client.release(isBroken)
}
