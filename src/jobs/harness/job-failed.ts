/** The error a backfill or verify run ends with when one of its chunks could not be done. */
import { CutoverError } from '../../core/errors.js'
import { isConnectionLost, serverMessage } from '../../db/pg-errors.js'

export type JobKind = 'backfill' | 'verify'

/**
 * A chunk failed (or another run marked the job failed). Never skipped
 * silently: the run stops, and the message says how to go on. Exit code 3 when
 * the database went away, else 1.
 */
export class JobFailed extends CutoverError {
  readonly exitCode: 1 | 3
  constructor(
    readonly migration: string,
    readonly kind: JobKind,
    readonly jobId: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    const next =
      kind === 'backfill'
        ? `fix the cause and run it again, it resumes where it stopped: cutover backfill ${migration}`
        : `fix the cause and run it again: cutover verify ${migration}`
    super(`${kind} of ${migration} (job ${jobId}) failed: ${detail}; ${next}`, options)
    this.exitCode = options?.cause !== undefined && isConnectionLost(options.cause) ? 3 : 1
  }

  /** A chunk's statement failed: the message names the chunk, its keys and the server's words. */
  static inChunk(migration: string, kind: JobKind, jobId: string, chunk: string, cause: unknown): JobFailed {
    return new JobFailed(migration, kind, jobId, `chunk ${chunk}: ${serverMessage(cause).replaceAll('\n', ' ')}`, {
      cause,
    })
  }
}
