/** The one module that reads PostgreSQL error codes, grouped by what they mean to cutover. */

const NOT_FOUND = new Set(['42P01', '42703', '3F000', '42883', '42704'])
const CLASH = new Set(['23505', '42P06', '42P07', '42710'])
const LOCK_WAIT = new Set(['55P03', '57014', '40P01', '40001'])
const CONSTRAINT = new Set([
  '23502',
  '23503',
  '23505',
  '23514',
  '23P01',
  '22001',
  '22003',
  '22P02',
  '22007',
  '22008',
  '22023',
])
const CONNECTION = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300'])
const AUTH = new Set(['28000', '28P01', '3D000'])
const COMPILE = new Set([
  '42601',
  '42703',
  '42883',
  '42804',
  '42P01',
  '42P10',
  '42P18',
  '42725',
  '42846',
  '42P02',
  '42803',
  '0A000',
  '42P20',
  '22P02',
])
const PERMISSION_DENIED = '42501'
const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'EAI_AGAIN', 'EPIPE'])

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** The object does not exist (table, column, schema, function, type). */
export const isNotFound = (e: unknown): boolean => NOT_FOUND.has(codeOf(e) ?? '')
/** Someone else created it first: a concurrent `init` already did the work. */
export const isClash = (e: unknown): boolean => CLASH.has(codeOf(e) ?? '')
/** A lock or statement timeout, deadlock or serialization failure: retry with backoff. */
export const isLockWait = (e: unknown): boolean => LOCK_WAIT.has(codeOf(e) ?? '')
/** A unique key already holds the value (23505): another writer got there first. */
export const isUniqueViolation = (e: unknown): boolean => codeOf(e) === '23505'
/** A foreign key's other row is missing, or still referenced (23503). */
export const isForeignKeyViolation = (e: unknown): boolean => codeOf(e) === '23503'
/** A setting's value PostgreSQL does not accept (22023: `invalid value for parameter "TimeZone"`). */
export const isInvalidSettingValue = (e: unknown): boolean => codeOf(e) === '22023'
/** An expression that must be immutable is not (42P17: a generated column's or an index's). */
export const isNotImmutable = (e: unknown): boolean => codeOf(e) === '42P17'
/** The row broke a constraint or a type rule on its way in. */
export const isConstraintViolation = (e: unknown): boolean => CONSTRAINT.has(codeOf(e) ?? '')
/** The connection was lost, refused or terminated. */
export const isConnectionLost = (e: unknown): boolean => {
  const code = codeOf(e) ?? ''
  if (CONNECTION.has(code) || NETWORK.has(code)) return true
  const message = e instanceof Error ? e.message : ''
  return /Connection terminated|connection ended|Client has encountered a connection error|not queryable/i.test(message)
}
/** Login refused or the database does not exist. */
export const isAuthFailure = (e: unknown): boolean => AUTH.has(codeOf(e) ?? '')
/** The role lacks a privilege (42501): a missing grant, never a mistake in the config. */
export const isPermissionDenied = (e: unknown): boolean => codeOf(e) === PERMISSION_DENIED
/** An SQL text did not compile (syntax, unknown column or function, type mismatch). */
export const isCompileError = (e: unknown): boolean =>
  COMPILE.has(codeOf(e) ?? '') || ((codeOf(e) ?? '').startsWith('42') && !isPermissionDenied(e))

/** What a permission error was about, from the server's words (`permission denied for table state`). */
export interface DeniedObject {
  /** `table`, `schema`, `sequence`, `function`, … (null when the server did not say). */
  readonly kind: string | null
  /** The object's name as the server printed it (unqualified for a table). */
  readonly name: string | null
}

/** The object a permission error names; undefined for an error that is not one. */
export function deniedObject(e: unknown): DeniedObject | undefined {
  if (!isPermissionDenied(e)) return undefined
  const match = /permission denied for (\w+) "?([^"\s]+)"?/.exec(e instanceof Error ? e.message : '')
  return match ? { kind: match[1] ?? null, name: match[2] ?? null } : { kind: null, name: null }
}
/** A prepared statement's plan no longer fits its tables (they changed shape since it was prepared). */
export const isStalePlan = (e: unknown): boolean =>
  codeOf(e) === '0A000' && e instanceof Error && /cached plan must not change result type/.test(e.message)
/**
 * A named prepared statement the client believed in is missing (26000) or
 * already exists (42P05) on the server connection: a transaction pooler gave
 * this client another server connection than the one that prepared it.
 */
export const isPreparedStatementLost = (e: unknown): boolean => {
  const code = codeOf(e)
  return code === '26000' || code === '42P05'
}
/** SAVEPOINT (or RELEASE/ROLLBACK TO) outside a transaction block (25P01). */
export const isNoTransaction = (e: unknown): boolean => codeOf(e) === '25P01'
/** The server's own message for a database error, without any connection detail. */
export function serverMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
/** What a lost or refused connection's network code means, in words. */
export function connectionFailureDetail(e: unknown): string {
  const code = codeOf(e)
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found'
  if (code === 'ETIMEDOUT') return 'timed out'
  return 'the connection failed or was lost'
}
/** The control schema refused a mapping expression at registration (sql/0010 resolve_expression: P0C10). */
export const isMappingRefused = (e: unknown): boolean => codeOf(e) === 'P0C10'
/** A guardrail's rollback found the migration complete, which cannot be rolled back (sql/0010: P0C11). */
export const isRollbackOfComplete = (e: unknown): boolean => codeOf(e) === 'P0C11'
