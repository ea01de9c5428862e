/**
 * The closed set of errors cutover raises on purpose. Each has a one-line
 * message that ends with the next step, and the CLI's exit code:
 * 1 a check failed, 2 bad usage or config, 3 something could not be reached.
 */
export abstract class CutoverError extends Error {
  abstract readonly exitCode: 1 | 2 | 3
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A config file, a migration definition or a CLI argument is wrong. */
export class ConfigInvalid extends CutoverError {
  readonly exitCode = 2
  constructor(readonly migration: string | undefined, readonly detail: string, options?: { cause?: unknown }) {
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
  constructor(readonly schema: string) {
    super(`control schema "${schema}" is not initialised; run: cutover init`)
  }
}

/** A control-schema file was edited after it had been applied. */
export class ControlSchemaChanged extends CutoverError {
  readonly exitCode = 2
  constructor(readonly file: string, readonly appliedChecksum: string, readonly fileChecksum: string) {
    super(
      `control-schema file ${file} changed after it was applied (applied ${appliedChecksum.slice(0, 12)}, now ${fileChecksum.slice(0, 12)}); ` +
        'restore the original file and put the change in a new numbered file',
    )
  }
}

/** A phase change lacks its evidence (see DESIGN.md, Gates). */
export class GateRefused extends CutoverError {
  readonly exitCode = 1
  constructor(readonly migration: string, readonly gate: string, readonly missing: string, readonly next: string) {
    super(`${migration}: gate "${gate}" not met: ${missing}; ${next}`)
  }
}

/** A requested transition is not allowed from the current phase. */
export class TransitionInvalid extends CutoverError {
  readonly exitCode = 2
  constructor(readonly migration: string, readonly detail: string) {
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
  constructor(readonly service: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`cannot reach ${service}: ${detail}; check the address and credentials (--database-url or DATABASE_URL) and that the server is up`, options)
  }
}
