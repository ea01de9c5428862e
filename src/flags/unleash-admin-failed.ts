/** An Unleash admin call failed; the control schema already changed, and says what routing obeys. */
import { CutoverError } from '../core/errors.js'

export class UnleashAdminFailed extends CutoverError {
  readonly exitCode = 3
  /** `detail` never holds a token: UnleashAdmin redacts it before it gets here. */
  constructor(
    readonly toggle: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Unleash toggle "${toggle}" not updated: ${detail}`, options)
  }
}
