/** The refusals of retire and unretire that are not gates: foreign keys that cannot move, and a lock not granted in time. */
import { CutoverError } from '../../core/errors.js'

/** One foreign key that cannot move, and why. */
export interface ForeignKeyProblem {
  /** `schema.table.constraint (columns)`. */
  readonly foreignKey: string
  readonly reason: string
  /** A query that lists the offending rows, when the problem is rows. */
  readonly listQuery?: string
}

/** Some foreign key cannot move; nothing was changed. Exit code 1. */
export class ForeignKeysCannotMove extends CutoverError {
  readonly exitCode = 1
  constructor(
    readonly migration: string,
    readonly action: 'retire' | 'unretire' | 'advance',
    readonly target: string,
    readonly problems: readonly ForeignKeyProblem[],
    again = `cutover ${action} ${migration}`,
  ) {
    super(
      `${migration}: ${action} refused, nothing changed: ${problems.length} foreign key(s) cannot move to ${target}: ` +
        `${problems.map((p) => `${p.foreignKey}: ${p.reason}`).join('; ')}; fix each, then run ${again} again`,
    )
  }
}

/** A table lock was not granted within the lock timeout; the transaction rolled back. Exit code 3, like a state row held too long. */
export class RetireLocked extends CutoverError {
  readonly exitCode = 3
  constructor(
    readonly migration: string,
    readonly action: 'retire' | 'unretire',
    readonly limitMs: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${action} of ${migration} could not take its table locks within ${limitMs} ms (${detail}); nothing changed. ` +
        `A long transaction on the tables holds them (see pg_stat_activity); end it or wait, then run cutover ${action} ${migration} again`,
      options,
    )
  }
}
