/**
 * How long the DDL actions wait for a table lock by default, then change nothing. In a module that loads
 * nothing, so `cutover --help` shows them without loading the actions.
 */

/** retire and unretire: each table lock. */
export const DEFAULT_RETIRE_LOCK_TIMEOUT_MS = 5000
/** net install/remove: the legacy table's lock. */
export const DEFAULT_NET_LOCK_TIMEOUT_MS = 5000
