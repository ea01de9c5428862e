/** The slice of a logger (pino's, say) that jobs write to. */

export interface JobLogger {
  /** Progress and outcomes an operator follows. */
  info(fields: Record<string, unknown>, message: string): void
  /** Waits and retries: lock timeouts, leases taken over. */
  warn(fields: Record<string, unknown>, message: string): void
  /** Throttle waits and other detail. */
  debug(fields: Record<string, unknown>, message: string): void
}

/** For when no logger is given. */
export const silentLogger: JobLogger = { info: () => undefined, warn: () => undefined, debug: () => undefined }
