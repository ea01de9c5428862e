/** How a mapping expression that depends on the session settings is named to an operator (register, precheck). */
import { describeSessionSettings, type SessionSettings } from './session-settings.js'

/** A mapping expression PostgreSQL does not hold immutable, and what in it is not. */
export interface SessionDependentExpression {
  readonly direction: 'forward' | 'backward'
  readonly column: string
  readonly expression: string
  readonly casts: readonly string[]
}

/** `forward made_at (made_at::timestamptz): timestamptz(timestamp without time zone) depends on the session settings; …`. */
export function describeSessionDependent(e: SessionDependentExpression, settings: SessionSettings): string {
  const what = e.casts.length > 0 ? e.casts.join(', ') : 'a cast in it'
  return (
    `${e.direction} ${e.column} (${e.expression}): ${what} depends on the session settings (TimeZone, DateStyle, IntervalStyle, lc_monetary, extra_float_digits) ` +
    `or is not immutable; cutover evaluates it under the migration's own (${describeSessionSettings(settings)}) in every statement it runs; ` +
    'if those are not the ones your application writes under, set "session" in the config and register again'
  )
}
