/** Turns a failure from the database into one of cutover's typed errors, never quoting a connection string. */
import { ControlSchemaMissing, CutoverError, Unreachable } from '../core/errors.js'
import { scrubSecrets } from '../logger.js'
import { connectionFailureDetail, isAuthFailure, isConnectionLost, isNotFound } from './pg-errors.js'

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

export function classifyError(error: unknown, context: { connectionString?: string; schema: string }): Error {
  if (error instanceof CutoverError) return error
  const target = describeTarget(context.connectionString)
  if (isAuthFailure(error)) return new Unreachable(target, scrubSecrets(error instanceof Error ? error.message : String(error)), { cause: error })
  if (isConnectionLost(error)) return new Unreachable(target, connectionFailureDetail(error), { cause: error })
  if (error instanceof Error && /timeout expired|Connection terminated due to connection timeout/i.test(error.message)) {
    return new Unreachable(target, 'timed out while connecting', { cause: error })
  }
  if (isNotFound(error) && error instanceof Error && error.message.includes(`"${context.schema}.`)) {
    return new ControlSchemaMissing(context.schema)
  }
  if (isNotFound(error) && error instanceof Error && /relation "[^"]*(migrations|state|events|divergences|jobs|instances)" does not exist/.test(error.message)) {
    return new ControlSchemaMissing(context.schema)
  }
  return error instanceof Error ? new Error(scrubSecrets(error.message), { cause: error }) : new Error(scrubSecrets(String(error)))
}
