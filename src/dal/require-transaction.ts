/** Refuses a `{ tx }` that is not an open transaction: its compared reads would silently go uncompared. */
import { ConfigInvalid } from '../core/errors.js'
import { isKysely, isPgPool, type Database } from './executor.js'

const NEXT =
  'pass the transaction your code holds (Kysely: the trx of db.transaction().execute(async (trx) => …); pg: a client after BEGIN), or leave tx out'

/**
 * Throws ConfigInvalid unless `tx` is a Kysely transaction or a pg client
 * inside a transaction block: outside one, the savepoint that keeps a failed
 * comparison from aborting the caller's work cannot exist.
 */
export function requireTransaction(migration: string, tx: Database): void {
  if (isKysely(tx)) {
    if (!tx.isTransaction) throw new ConfigInvalid(migration, `{ tx } is a Kysely instance, not a transaction; ${NEXT}`)
    return
  }
  if (isPgPool(tx)) throw new ConfigInvalid(migration, `{ tx } is a pg pool, not a transaction; ${NEXT}`)
  // 'I': idle, no transaction open; 'T' in one, 'E' in a failed one (its statements fail on their own).
  const status = (tx as { getTransactionStatus?: () => string | null }).getTransactionStatus?.()
  if (status === 'I')
    throw new ConfigInvalid(migration, `{ tx } is a pg client with no transaction open (send BEGIN first); ${NEXT}`)
}
