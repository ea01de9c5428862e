/** The one way cutover sets a lock timeout: for the current transaction only, so it never outlives it on a pooled server connection. */
import type { Queryable } from './queryable.js'

/**
 * The select-list item that sets `lock_timeout` for the rest of the transaction, its value the parameter `$1`
 * (`lockTimeoutValue`): for a statement that reads something else in the same round trip.
 */
export const LOCK_TIMEOUT_ITEM = "set_config('lock_timeout', $1, true)"

/** The parameter of LOCK_TIMEOUT_ITEM. */
export function lockTimeoutValue(timeoutMs: number): string {
  return `${timeoutMs}ms`
}

/** Sets `lock_timeout` for the rest of the caller's transaction (one round trip; the value is a parameter). */
export async function setLockTimeout(client: Queryable, timeoutMs: number): Promise<void> {
  await client.query(`SELECT ${LOCK_TIMEOUT_ITEM}`, [lockTimeoutValue(timeoutMs)])
}

/**
 * The same setting as a statement to send with `BEGIN` in one round trip (`BEGIN; SET LOCAL …`): simple-query
 * text takes no parameters, so the value is a whole number of milliseconds written into it.
 */
export function lockTimeoutSetLocal(timeoutMs: number): string {
  return `SET LOCAL lock_timeout = '${Math.max(0, Math.round(timeoutMs))}ms'`
}
