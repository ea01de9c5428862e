/**
 * A client whose every statement runs in a transaction of its own with a
 * lock_timeout set LOCAL to it: the setting never outlives the statement, so
 * nothing is left on a server connection a pooler hands to someone else next.
 */
import type pg from 'pg'

/** `client`, but each `query` is BEGIN; SET LOCAL lock_timeout; the statement; COMMIT (ROLLBACK on error). */
export function withStatementLockTimeout(client: pg.ClientBase, lockTimeoutMs: number): pg.ClientBase {
  const timeout = `${Math.max(1, Math.round(lockTimeoutMs))}ms`
  const query = async (...args: unknown[]): Promise<unknown> => {
    await client.query('BEGIN')
    try {
      await client.query("SELECT set_config('lock_timeout', $1, true)", [timeout])
      const result = await (client.query as (...a: unknown[]) => Promise<unknown>)(...args)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    }
  }
  return new Proxy(client, {
    get: (target, property, receiver) => (property === 'query' ? query : Reflect.get(target, property, receiver) as unknown),
  })
}
