/** The slice of a logger (pino's, say) that jobs write to, and the one they use when given none. */
import { createLogger } from '../../logger.js'

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

let stderrLogger: JobLogger | undefined

/**
 * When no logger is given: warnings (lock waits past the routine ones, leases
 * taken over) on stderr as pino JSON lines, so an operator running a job sees
 * what it waits for. CUTOVER_LOG_LEVEL sets the level.
 */
export function defaultJobLogger(): JobLogger {
  return (stderrLogger ??= createLogger({ level: process.env.CUTOVER_LOG_LEVEL || 'warn' }))
}
