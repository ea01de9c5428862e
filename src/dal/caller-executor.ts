/** Where a DAL call runs: the caller's transaction (`{ tx }`, refused unless one is open), else the DAL's own executor. */
import { executorFor, type Database, type SqlExecutor } from './executor.js'
import { requireTransaction } from './require-transaction.js'
import type { StatementPolicy } from './statement-policy.js'

/** `name` (a migration's or a group's) is what a refusal of `tx` names. */
export function callerExecutor(
  name: string,
  tx: Database | undefined,
  own: SqlExecutor,
  statements?: StatementPolicy,
): SqlExecutor {
  if (tx === undefined) return own
  requireTransaction(name, tx)
  return executorFor(tx, statements)
}
