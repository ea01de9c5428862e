/** What every command shares: the connection, the control schema's name, the operator, and printing. */
import { userInfo } from 'node:os'
import pg from 'pg'
import { ConfigInvalid } from '../core/errors.js'
import { describeTarget } from '../db/classify-error.js'
import { withStoredPassword } from '../db/stored-password.js'

export interface GlobalArgs {
  readonly 'database-url'?: string
  readonly schema: string
  readonly json: boolean
  readonly actor?: string
  readonly reason?: string
}

export interface CommandContext {
  readonly pool: pg.Pool
  readonly schema: string
  readonly actor: string
  readonly reason: string | undefined
  readonly json: boolean
  readonly connectionString: string
  /** Human output (suppressed with --json). */
  say(line: string): void
  /** The one JSON document of --json. */
  emit(document: unknown): void
  /** Whether `emit` already printed the document (an error after it must not print a second one). */
  readonly hasEmitted: () => boolean
}

export function operatorName(explicit: string | undefined): string {
  if (explicit) return explicit
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? 'unknown'
  }
}

export function connectionStringOf(args: GlobalArgs): string {
  const url = args['database-url'] ?? process.env.DATABASE_URL
  if (!url)
    throw new ConfigInvalid(
      undefined,
      'no database given; pass --database-url postgres://user@host/db or set DATABASE_URL',
    )
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new ConfigInvalid(
      undefined,
      `${describeTarget(url)}: --database-url must start with postgres:// or postgresql://`,
    )
  return url
}

export function createContext(args: GlobalArgs): CommandContext {
  const connectionString = connectionStringOf(args)
  // The password from ~/.pgpass, when the URL and PGPASSWORD give none, goes to pg in memory only.
  const pool = new pg.Pool({
    connectionString: withStoredPassword(connectionString),
    max: 12,
    connectionTimeoutMillis: 5000,
    application_name: 'cutover-cli',
  })
  pool.on('error', () => undefined)
  let emitted = false
  return {
    pool,
    schema: args.schema,
    actor: operatorName(args.actor),
    reason: args.reason,
    json: args.json,
    connectionString,
    say: (line) => {
      if (!args.json) process.stdout.write(`${line}\n`)
    },
    emit: (document) => {
      if (args.json && !emitted) process.stdout.write(`${JSON.stringify(document)}\n`)
      emitted = true
    },
    hasEmitted: () => emitted,
  }
}
