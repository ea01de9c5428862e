/** The pino logger cutover uses, with secrets redacted wherever they could appear. */
import pino, { type Logger } from 'pino'

export type { Logger }

export const REDACT_PATHS = [
  'connectionString', '*.connectionString', 'databaseUrl', '*.databaseUrl', 'password', '*.password',
  'token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'unleashToken', '*.unleashToken',
]

/** Removes a password from anything that looks like a connection string or an http(s) URL (a Prometheus URL may carry one). */
export function scrubSecrets(text: string): string {
  return text.replace(/((?:postgres(?:ql)?|https?):\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1***@')
}

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'cutover',
      level: options.level ?? process.env.CUTOVER_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '***' },
      formatters: { log: (object) => JSON.parse(scrubSecrets(JSON.stringify(object))) as Record<string, unknown> },
      serializers: {
        err: (error: Error) => JSON.parse(scrubSecrets(JSON.stringify(pino.stdSerializers.err(error)))) as Record<string, unknown>,
      },
      hooks: {
        // The message text too: a connection string interpolated into it loses its password.
        logMethod(args, method) {
          method.apply(this, args.map((a: unknown) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>)
        },
      },
    },
    options.destination ?? pino.destination(2),
  )
}
