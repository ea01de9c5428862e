/** The pino logger cutover uses, with secrets redacted wherever they could appear. */
import pino, { type Logger } from 'pino'

export type { Logger }

export const REDACT_PATHS = [
  'connectionString',
  '*.connectionString',
  'databaseUrl',
  '*.databaseUrl',
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'unleashToken',
  '*.unleashToken',
]

/**
 * A URL's password: `scheme://user:PASSWORD@host` (the user may be empty); up to the last `@` of the authority, so a
 * password holding `@` goes whole. In JSON text a `\"` inside it is skipped and a bare `"` ends it.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^:/?#@\s"]*:)(?:[^\s"\\/?#]|\\.)*@/gi
/** A `password` (or `sslpassword`) query parameter of a URL. */
const QUERY_PASSWORD = /([?&](?:ssl)?password=)(?:[^&#\s"\\]|\\.)*/gi
/** A libpq conninfo `password=…` (unquoted up to a space, or single-quoted with `\'`), `sslpassword`, and `PGPASSWORD=…`. */
const CONNINFO_PASSWORD = /(?<![\w?&.-])((?:pg|ssl)?password\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|(?:[^\s'"\\]|\\.)+)/gi

/** Removes a password from every form a connection string takes (URL, its query, conninfo) and from http(s) URLs (a Prometheus URL may carry one). */
export function scrubSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@').replace(QUERY_PASSWORD, '$1***').replace(CONNINFO_PASSWORD, '$1***')
}

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'cutover',
      level: options.level ?? process.env.CUTOVER_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '***' },
      formatters: { log: (object) => JSON.parse(scrubSecrets(JSON.stringify(object))) as Record<string, unknown> },
      serializers: {
        err: (error: Error) =>
          JSON.parse(scrubSecrets(JSON.stringify(pino.stdSerializers.err(error)))) as Record<string, unknown>,
      },
      hooks: {
        // The message text too: a connection string interpolated into it loses its password.
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a: unknown) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>,
          )
        },
      },
    },
    options.destination ?? pino.destination(2),
  )
}
