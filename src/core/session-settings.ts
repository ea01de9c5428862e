/**
 * The session settings a migration's mapping is evaluated under. Casts such as `timestamp` → `timestamptz` (TimeZone),
 * text → date (DateStyle), interval → text (IntervalStyle), money (lc_monetary) or float → text
 * (extra_float_digits) give different results in sessions that differ in these, so every statement cutover runs (the
 * DAL's, the jobs', the bypass net's) sets the migration's own, transaction-locally.
 */
import { quoteLiteral } from './identifiers.js'

/** The settings a migration carries, in PostgreSQL's spelling. */
export const SESSION_SETTING_NAMES = [
  'TimeZone',
  'DateStyle',
  'IntervalStyle',
  'lc_monetary',
  'extra_float_digits',
] as const

export type SessionSettingName = (typeof SESSION_SETTING_NAMES)[number]

/** Setting → value as PostgreSQL takes it (`"UTC"`, `"ISO, MDY"`, `"1"`). */
export type SessionSettings = Readonly<Partial<Record<SessionSettingName, string>>>

const NAMES: ReadonlySet<string> = new Set(SESSION_SETTING_NAMES)

/** Whether `name` is one of {@link SESSION_SETTING_NAMES}. */
export function isSessionSettingName(name: string): name is SessionSettingName {
  return NAMES.has(name)
}

/** The settings in their fixed order, those present only. */
function entries(settings: SessionSettings): [SessionSettingName, string][] {
  return SESSION_SETTING_NAMES.flatMap((name) =>
    settings[name] === undefined ? [] : [[name, settings[name]] as [SessionSettingName, string]],
  )
}

/**
 * A condition for a statement's final SELECT (`WHERE …`), like the writer marker (db/writer-marker.ts): an InitPlan
 * evaluated once, before the first row is fetched from below, that sets each setting for the transaction. Empty
 * string when there is none. Values are literals: the statement is built once per migration.
 */
export function sessionSettingsFilter(settings: SessionSettings): string {
  const calls = entries(settings).map(
    ([name, value]) => `pg_catalog.set_config(${quoteLiteral(name)}, ${quoteLiteral(value)}, true)`,
  )
  if (calls.length === 0) return ''
  return `(SELECT pg_catalog.concat(${calls.join(', ')})) IS NOT NULL`
}

/** `SET LOCAL "TimeZone" = '…'; …` for a job's `BEGIN; …` (no parameters there); empty string when there is none. */
export function sessionSettingsSetLocal(settings: SessionSettings): string {
  return entries(settings)
    .map(([name, value]) => `SET LOCAL "${name}" = ${quoteLiteral(value)}`)
    .join('; ')
}

/** `SET "TimeZone" = '…' SET …` clauses for a function (the bypass net's trigger functions): restored when it returns. */
export function sessionSettingsFunctionClauses(settings: SessionSettings): string {
  return entries(settings)
    .map(([name, value]) => `SET "${name}" = ${quoteLiteral(value)}`)
    .join(' ')
}

/** `TimeZone=UTC, DateStyle=ISO, MDY, …`, for messages. */
export function describeSessionSettings(settings: SessionSettings): string {
  return entries(settings)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ')
}
