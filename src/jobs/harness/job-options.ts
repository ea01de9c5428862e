/** The checks of a job's sizing options, shared by the library's runBackfill and runVerify and so by the CLI's flags. */
import { ConfigInvalid } from '../../core/errors.js'

/** More loops than this in one process would only queue on the server's cores and the pool. */
export const MAX_JOB_WORKERS = 64
/** Connections one backfill or verify worker may work on a chunk on at once. */
export const MAX_JOB_PARALLEL = 16

interface SizingOptions {
  readonly workers?: number
  readonly parallel?: number
  readonly chunkRows?: number
  readonly limit?: number
}

function wholeNumber(value: number | undefined, min: number, max: number): boolean {
  return value === undefined || (Number.isInteger(value) && value >= min && value <= max)
}

/**
 * Refuses a worker count, a verify's parallel connections, a first chunk size or a list limit that is not a whole
 * number in its range, naming the CLI flag and the library option, with a command that is accepted.
 */
export function checkJobOptions(migration: string, kind: 'backfill' | 'verify', options: SizingOptions): void {
  const refuse = (flag: string, option: string, range: string, value: unknown, example: string): never => {
    const given = typeof value === 'number' && Number.isNaN(value) ? 'something that is not a number' : String(value)
    throw new ConfigInvalid(
      migration,
      `--${flag} (${option}) must be a whole number ${range}, not ${given}; for example: cutover ${kind} ${migration} --${flag} ${example}`,
    )
  }
  if (!wholeNumber(options.workers, 1, MAX_JOB_WORKERS))
    refuse('workers', 'workers', `from 1 to ${MAX_JOB_WORKERS}`, options.workers, '2')
  if (!wholeNumber(options.parallel, 1, MAX_JOB_PARALLEL))
    refuse('parallel', 'parallel', `from 1 to ${MAX_JOB_PARALLEL}`, options.parallel, '2')
  if (!wholeNumber(options.chunkRows, 1, Number.MAX_SAFE_INTEGER))
    refuse('chunk-rows', 'chunkRows', 'of 1 or more', options.chunkRows, '1000')
  if (!wholeNumber(options.limit, 0, Number.MAX_SAFE_INTEGER))
    refuse('limit', 'limit', 'of 0 or more', options.limit, '100')
}
