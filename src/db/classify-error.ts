/** Turns a failure from the database into one of cutover's typed errors, never quoting a connection string. */
import { ControlSchemaMissing, CutoverError, PermissionDenied, Unreachable } from '../core/errors.js'
import { quoteIdent } from '../core/identifiers.js'
import { scrubSecrets } from '../logger.js'
import { missingGrant } from './missing-grant.js'
import { ownedTablesOf } from './owned-tables.js'
import {
  connectionFailureDetail,
  deniedObject,
  isAuthFailure,
  isConnectionLost,
  isNotFound,
  serverMessage,
} from './pg-errors.js'

/** Where the database is, without credentials: `host:port/database`. */
export function describeTarget(connectionString: string | undefined): string {
  if (!connectionString) return 'the database'
  try {
    const url = new URL(connectionString)
    return `the database at ${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`
  } catch {
    return 'the database (the connection string does not parse as a URL)'
  }
}

/** The role of a connection string, quoted, for a GRANT; a placeholder when it names none. */
function roleOf(connectionString: string | undefined): string {
  try {
    const user = connectionString ? decodeURIComponent(new URL(connectionString).username) : ''
    return user ? quoteIdent(user) : '<your role>'
  } catch {
    return '<your role>'
  }
}

/** The first permission error in an error's chain of causes (a job wraps the server's error). */
function permissionCause(error: unknown): unknown {
  for (
    let e = error, depth = 0;
    e !== undefined && e !== null && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (deniedObject(e)) return e
  }
  return undefined
}

export function classifyError(error: unknown, context: { connectionString?: string; schema: string }): Error {
  const target = describeTarget(context.connectionString)
  const denied = permissionCause(error)
  if (denied !== undefined) {
    const { object, grant } = missingGrant(
      deniedObject(denied) ?? { kind: null, name: null },
      context.schema,
      roleOf(context.connectionString),
      ownedTablesOf(error),
    )
    return new PermissionDenied(object, grant, scrubSecrets(serverMessage(denied)), { cause: error })
  }
  if (error instanceof ControlSchemaMissing && error.where === undefined)
    return new ControlSchemaMissing(error.schema, target)
  if (error instanceof CutoverError) return error
  if (isAuthFailure(error))
    return new Unreachable(target, scrubSecrets(error instanceof Error ? error.message : String(error)), {
      cause: error,
    })
  if (isConnectionLost(error)) return new Unreachable(target, connectionFailureDetail(error), { cause: error })
  if (
    error instanceof Error &&
    /timeout expired|Connection terminated due to connection timeout/i.test(error.message)
  ) {
    return new Unreachable(target, 'timed out while connecting', { cause: error })
  }
  if (isNotFound(error) && error instanceof Error && error.message.includes(`"${context.schema}.`)) {
    return new ControlSchemaMissing(context.schema, target)
  }
  if (
    isNotFound(error) &&
    error instanceof Error &&
    /relation "[^"]*(migrations|state|events|divergences|jobs|instances)" does not exist/.test(error.message)
  ) {
    return new ControlSchemaMissing(context.schema)
  }
  return error instanceof Error
    ? new Error(scrubSecrets(error.message), { cause: error })
    : new Error(scrubSecrets(String(error)))
}
