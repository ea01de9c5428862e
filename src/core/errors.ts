/**
 * The closed set of errors cutover raises on purpose. Each has a one-line
 * message that ends with the next step, and the CLI's exit code:
 * 1 a check failed, 2 bad usage or config, 3 something could not be reached,
 * 4 the role lacks a privilege.
 */
export abstract class CutoverError extends Error {
  abstract readonly exitCode: 1 | 2 | 3 | 4
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A config file, a migration definition or a CLI argument is wrong. */
export class ConfigInvalid extends CutoverError {
  readonly exitCode = 2
  constructor(
    readonly migration: string | undefined,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(migration ? `migration "${migration}": ${detail}` : detail, options)
  }
}

/** A command named a migration the control schema does not know. */
export class UnknownMigration extends CutoverError {
  readonly exitCode = 2
  constructor(readonly migration: string) {
    super(`unknown migration "${migration}"; list the registered ones with: cutover status`)
  }
}

/** The control schema is missing or older than this code. */
export class ControlSchemaMissing extends CutoverError {
  readonly exitCode = 2
  /** `where`: the database it looked in, without credentials (`the database at host:5432/app`). */
  constructor(
    readonly schema: string,
    readonly where?: string,
  ) {
    super(
      `no control schema "${schema}" in ${where ?? 'this database'}; if it lives elsewhere, pass --schema NAME or --database-url postgres://…/DB; ` +
        `if this is the right place and it was never created, run: cutover init${schema === 'cutover' ? '' : ` --schema ${schema}`}`,
    )
  }
}

/** A control-schema file was edited after it had been applied. */
export class ControlSchemaChanged extends CutoverError {
  readonly exitCode = 2
  constructor(
    readonly file: string,
    readonly appliedChecksum: string,
    readonly fileChecksum: string,
  ) {
    super(
      `control-schema file ${file} changed after it was applied (applied ${appliedChecksum.slice(0, 12)}, now ${fileChecksum.slice(0, 12)}); ` +
        'restore the original file and put the change in a new numbered file',
    )
  }
}

/** A phase change lacks its evidence (see docs/design.md § 2, Gates). */
export class GateRefused extends CutoverError {
  readonly exitCode = 1
  constructor(
    readonly migration: string,
    readonly gate: string,
    readonly missing: string,
    readonly next: string,
  ) {
    super(`${migration}: gate "${gate}" not met: ${missing}; ${next}`)
  }
}

/**
 * `complete` was asked for without its own confirmation. It is not a gate:
 * `--force` (`force: true`) never stands in for it.
 */
export class ConfirmationRequired extends CutoverError {
  readonly exitCode = 1
  constructor(
    readonly migration: string,
    readonly next: string,
  ) {
    super(
      `${migration}: complete is the one step that cannot be undone and needs its own confirmation (--force does not give it); ${next}`,
    )
  }
}

/** The role lacks a privilege a command needs; names the grant that gives it. */
export class PermissionDenied extends CutoverError {
  readonly exitCode = 4
  constructor(
    readonly object: string,
    readonly grant: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`permission denied on ${object} (${detail}); have its owner run: ${grant}`, options)
  }
}

/** A re-registered definition changes the mapping while writers dual-write; `force` accepts it (recorded). */
export class MappingChangeRefused extends GateRefused {
  constructor(
    migration: string,
    readonly phase: string,
    readonly changes: readonly string[],
    next: string,
  ) {
    super(
      migration,
      'mapping_change',
      `the new definition changes ${changes.join('; ')} while the migration is in ${phase}, ` +
        'where running processes write both tables and each writes with the old mapping until it reloads',
      next,
    )
  }
}

/** A requested transition is not allowed from the current phase. */
export class TransitionInvalid extends CutoverError {
  readonly exitCode = 2
  constructor(
    readonly migration: string,
    readonly detail: string,
  ) {
    super(`${migration}: ${detail}`)
  }
}

/** A check ran and found a problem (verify found differences, say). */
export class CheckFailed extends CutoverError {
  readonly exitCode = 1
}

/** The database (or the flag service) could not be reached; the message never holds the connection string. */
export class Unreachable extends CutoverError {
  readonly exitCode = 3
  constructor(
    readonly service: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot reach ${service}: ${detail}; check the address and credentials (--database-url or DATABASE_URL) and that the server is up`,
      options,
    )
  }
}

/** `advance --to` named a phase more than one step ahead. */
export class PhaseSkipped extends TransitionInvalid {
  constructor(
    migration: string,
    readonly from: string,
    readonly target: string,
    readonly next: string,
    whyNotNext?: string,
  ) {
    super(
      migration,
      whyNotNext
        ? `cannot skip from ${from} to ${target}, and the next phase, ${next}, is not ready: ${whyNotNext}`
        : `cannot skip from ${from} to ${target}; advance one phase at a time, to ${next} first: cutover advance ${migration}`,
    )
  }
}

/** A state change named a migration that belongs to a group: its phase moves only with the group's. */
export class GroupMemberMovedAlone extends TransitionInvalid {
  constructor(
    migration: string,
    readonly group: string,
    readonly action: string,
    readonly next: string,
  ) {
    super(
      migration,
      `belongs to group "${group}", whose members move together (one phase, one read percentage); run: ${next}`,
    )
  }
}

/** A command needs a package that is only a development dependency (the demo's embedded PostgreSQL) and it is not installed. */
export class DependencyMissing extends CutoverError {
  readonly exitCode = 2
  constructor(
    readonly dependency: string,
    readonly next: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${dependency} is not installed (a development dependency of cutover, not installed with the package); ${next}`,
      options,
    )
  }
}

/** A session holding a lock that a state change waits for, as pg_stat_activity shows it. */
export interface BlockingSession {
  readonly pid: number
  readonly application: string
  readonly user: string
  /** `active`, `idle in transaction`, … (empty when the role may not see it). */
  readonly state: string
  /** Age of its open transaction; null when not visible. */
  readonly transactionSeconds: number | null
  /** Its last statement, cut to 200 characters (empty when the role may not see it). */
  readonly query: string
}

/** A state change could not lock the state row (or its event table) within its bound; exit code 3, the state unchanged. */
export class StateLocked extends CutoverError {
  readonly exitCode = 3
  constructor(
    readonly migration: string,
    readonly action: string,
    readonly limitMs: number,
    readonly blockers: readonly BlockingSession[],
    options?: { cause?: unknown },
  ) {
    const pids = blockers.map((b) => b.pid)
    super(
      `${action} of ${migration} could not lock its state row within ${Math.round(limitMs / 1000)} s: it is held by ${StateLocked.describeBlockers(blockers)}; nothing changed. ` +
        `End that transaction${pids.length ? ` (SELECT pg_terminate_backend(${pids.join('), pg_terminate_backend(')}))` : ''} or wait for it, then run the ${action} again`,
      options,
    )
  }

  /** `pid 123 (psql, user alice, idle in transaction for 12 s, last query: …)`: the sessions a state change waits for. */
  static describeBlockers(blockers: readonly BlockingSession[]): string {
    if (blockers.length === 0) return 'another session (it could not be identified)'
    return blockers
      .map((b) => {
        const facts = [
          b.application || 'no application name',
          b.user ? `user ${b.user}` : '',
          b.state
            ? `${b.state}${b.transactionSeconds === null ? '' : ` for ${Math.round(b.transactionSeconds)} s`}`
            : '',
          b.query ? `last query: ${b.query.replace(/\s+/g, ' ').trim()}` : '',
        ].filter(Boolean)
        return `pid ${b.pid} (${facts.join(', ')})`
      })
      .join(' and ')
  }
}
