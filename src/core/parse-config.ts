/** Turns the parsed contents of a config file into validated migration definitions, or one clear refusal. */
import {
  DEFAULT_GUARDRAILS,
  MIGRATION_NAME_PATTERN,
  type GuardrailConfig,
  type MigrationDefinition,
  type ResolvedExpressions,
  type RoutingConfig,
  type TableSide,
} from './definition.js'
import { ConfigInvalid } from './errors.js'
import { expressionProblem } from './expression-guard.js'
import { definitionNameTooLong } from './identifier-length.js'
import { parseQualifiedName } from './identifiers.js'
import { isNormaliser, NORMALISER_NAMES } from './normalisers.js'
import { isSessionSettingName, SESSION_SETTING_NAMES, type SessionSettings } from './session-settings.js'

type Json = Record<string, unknown>

const KNOWN_FIELDS = new Set([
  'name',
  'legacy',
  'shadow',
  'forward',
  'backward',
  'compare',
  'onSecondaryError',
  'routing',
  'compareSample',
  'shadowReadSample',
  'soakSeconds',
  'guardrails',
  'retireSoakSeconds',
  'trustedSchemas',
  'session',
])
/** Stored with a group's members (from the config's `groups` list); never written in a migration by hand. */
const STORED_FIELDS = new Set(['group', 'resolved'])

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A value as text for a message, whatever it is (BigInt included). */
function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? `a ${typeof value}`
  } catch {
    return typeof value === 'bigint' ? `${value}n` : `a ${typeof value}`
  }
}

function fail(migration: string | undefined, detail: string): never {
  throw new ConfigInvalid(migration, detail)
}

function parseSide(name: string, field: 'legacy' | 'shadow', value: unknown): TableSide {
  if (!isObject(value)) fail(name, `"${field}" must be an object like {"table": "public.users", "key": ["id"]}`)
  const { table, key } = value
  if (typeof table !== 'string') fail(name, `"${field}.table" must be a string such as "public.users"`)
  const parsed = parseQualifiedName(table)
  if (!parsed)
    fail(
      name,
      `"${field}.table" ${show(table)} is not a table name; write schema.table, double-quoting a part that holds a dot or a quote`,
    )
  if (!Array.isArray(key) || key.length === 0 || !key.every((k) => typeof k === 'string' && k.length > 0)) {
    fail(name, `"${field}.key" must be a non-empty list of column names, such as ["id"]`)
  }
  const twice = (key as string[]).find((k, i) => key.indexOf(k) !== i)
  if (twice !== undefined) fail(name, `"${field}.key" names column ${show(twice)} twice; list each key column once`)
  return { table: parsed, key: key as string[] }
}

function parseExpressions(name: string, field: 'forward' | 'backward', value: unknown): Record<string, string> {
  if (value === undefined) return {}
  if (!isObject(value)) fail(name, `"${field}" must be an object of column name to SQL expression`)
  const pairs: [string, string][] = []
  for (const [column, expression] of Object.entries(value)) {
    if (typeof expression !== 'string') fail(name, `${show(`${field}.${column}`)} must be an SQL expression string`)
    const problem = expressionProblem(expression)
    if (problem)
      fail(
        name,
        `${show(`${field}.${column}`)} expression ${problem}; write a single SQL expression over the ${field === 'forward' ? 'legacy' : 'shadow'} table's columns`,
      )
    pairs.push([column, expression])
  }
  return Object.fromEntries(pairs)
}

function parseTrustedSchemas(name: string, value: unknown): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || s.length === 0 || s.length > 63)) {
    fail(name, '"trustedSchemas" must be a list of schema names, such as ["public"]')
  }
  const schemas = value as string[]
  const refused = schemas.find((s) => s === 'pg_temp' || s.startsWith('pg_temp_') || s === 'pg_catalog')
  if (refused)
    fail(
      name,
      `"trustedSchemas" may not list ${show(refused)}; pg_catalog is always trusted, and temporary objects never are`,
    )
  return schemas
}

/** The resolved expressions of a stored definition (written by the server at registration, never by a config file). */
function parseResolved(name: string, value: unknown): ResolvedExpressions | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) fail(name, '"resolved" must be an object; it is written by register, never by hand')
  const side = (field: 'forward' | 'backward'): Record<string, string> => {
    const entries = value[field] ?? {}
    if (!isObject(entries) || Object.values(entries).some((e) => typeof e !== 'string'))
      fail(name, `"resolved.${field}" must map columns to expressions`)
    return entries as Record<string, string>
  }
  return { forward: side('forward'), backward: side('backward') }
}

function parseCompare(name: string, value: unknown): Record<string, string> {
  if (value === undefined) return {}
  if (!isObject(value)) fail(name, '"compare" must be an object of shadow column to normaliser')
  const pairs: [string, string][] = []
  for (const [column, spec] of Object.entries(value)) {
    if (typeof spec !== 'string' || !isNormaliser(spec)) {
      fail(name, `${show(`compare.${column}`)} has unknown normaliser ${show(spec)}; known: ${NORMALISER_NAMES}`)
    }
    pairs.push([column, spec])
  }
  return Object.fromEntries(pairs)
}

function parseRouting(name: string, value: unknown): RoutingConfig {
  if (value === undefined) return { provider: 'control' }
  if (!isObject(value)) fail(name, '"routing" must be an object like {"provider": "control"}')
  const provider = value.provider ?? 'control'
  if (provider !== 'control' && provider !== 'unleash')
    fail(name, `"routing.provider" must be "control" or "unleash", not ${show(provider)}`)
  if (value.toggle !== undefined && typeof value.toggle !== 'string') fail(name, '"routing.toggle" must be a string')
  return value.toggle === undefined ? { provider } : { provider, toggle: value.toggle as string }
}

function parseNumber(name: string, field: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(name, `"${field}" must be a number from ${min} to ${max}, not ${show(value)}`)
  }
  return value
}

function parseGuardrails(name: string, value: unknown): GuardrailConfig {
  if (value === undefined) return DEFAULT_GUARDRAILS
  if (!isObject(value)) fail(name, '"guardrails" must be an object')
  const d = DEFAULT_GUARDRAILS
  return {
    maxDivergencesPerMinute: parseNumber(
      name,
      'guardrails.maxDivergencesPerMinute',
      value.maxDivergencesPerMinute,
      d.maxDivergencesPerMinute,
      0,
      1e9,
    ),
    maxP99Ratio: parseNumber(name, 'guardrails.maxP99Ratio', value.maxP99Ratio, d.maxP99Ratio, 0, 1e6),
    windowSeconds: parseNumber(name, 'guardrails.windowSeconds', value.windowSeconds, d.windowSeconds, 1, 86_400),
    minSamples: parseNumber(name, 'guardrails.minSamples', value.minSamples, d.minSamples, 1, 1e9),
  }
}

function parseSession(name: string, value: unknown): SessionSettings | undefined {
  if (value === undefined) return undefined
  if (!isObject(value))
    fail(
      name,
      `"session" must be an object of setting to value, such as {"TimeZone": "UTC"}; settings: ${SESSION_SETTING_NAMES.join(', ')}`,
    )
  const settings: Record<string, string> = {}
  for (const [setting, v] of Object.entries(value)) {
    if (!isSessionSettingName(setting))
      fail(
        name,
        `"session" names ${show(setting)}, which is not one of ${SESSION_SETTING_NAMES.join(', ')} (spelt as PostgreSQL spells them)`,
      )
    if (typeof v === 'number' && Number.isInteger(v)) settings[setting] = String(v)
    else if (typeof v === 'string' && v.length > 0 && v.length <= 200) settings[setting] = v
    else fail(name, `"session.${setting}" must be a non-empty string such as "UTC", not ${show(v)}`)
  }
  return settings
}

/** Validates one migration definition's shape (not the catalog: see the store's registration). */
export function parseMigration(value: unknown, index = 0): MigrationDefinition {
  if (!isObject(value)) fail(undefined, `migrations[${index}] must be an object`)
  const name = value.name
  if (typeof name !== 'string' || !MIGRATION_NAME_PATTERN.test(name) || name.length > 48) {
    fail(
      undefined,
      `migrations[${index}].name ${show(name ?? null)} is not a valid name; use lower-case letters, digits and _ starting with a letter (at most 48), such as "users_v2"`,
    )
  }
  for (const field of Object.keys(value)) {
    if (!KNOWN_FIELDS.has(field) && !STORED_FIELDS.has(field))
      fail(name, `unknown field ${show(field)}; known fields: ${[...KNOWN_FIELDS].join(', ')}`)
  }
  const legacy = parseSide(name, 'legacy', value.legacy)
  const shadow = parseSide(name, 'shadow', value.shadow)
  if (legacy.key.length !== shadow.key.length) {
    fail(
      name,
      `"legacy.key" has ${legacy.key.length} columns and "shadow.key" ${shadow.key.length}; list the same logical key on both sides`,
    )
  }
  const group = value.group
  if (group !== undefined && (typeof group !== 'string' || !MIGRATION_NAME_PATTERN.test(group) || group.length > 48)) {
    fail(
      name,
      `"group" ${show(group)} is not a valid group name; use lower-case letters, digits and _ starting with a letter (at most 48)`,
    )
  }
  const policy = value.onSecondaryError ?? 'fail'
  if (policy !== 'fail' && policy !== 'record')
    fail(name, `"onSecondaryError" must be "fail" or "record", not ${show(policy)}`)
  const definition: MigrationDefinition = {
    name,
    legacy,
    shadow,
    forward: parseExpressions(name, 'forward', value.forward),
    backward: parseExpressions(name, 'backward', value.backward),
    compare: parseCompare(name, value.compare),
    onSecondaryError: policy,
    routing: parseRouting(name, value.routing),
    compareSample: parseNumber(name, 'compareSample', value.compareSample, 0.01, 0, 1),
    shadowReadSample: parseNumber(name, 'shadowReadSample', value.shadowReadSample, 1, 0, 1),
    soakSeconds: parseNumber(name, 'soakSeconds', value.soakSeconds, 3600, 0, 365 * 86_400),
    guardrails: parseGuardrails(name, value.guardrails),
    retireSoakSeconds: parseNumber(name, 'retireSoakSeconds', value.retireSoakSeconds, 86_400, 0, 365 * 86_400),
    ...(value.session === undefined ? {} : { session: parseSession(name, value.session) as SessionSettings }),
    ...(group === undefined ? {} : { group: group as string }),
    trustedSchemas: parseTrustedSchemas(name, value.trustedSchemas),
    ...(value.resolved === undefined ? {} : { resolved: parseResolved(name, value.resolved) as ResolvedExpressions }),
  }
  const tooLong = definitionNameTooLong(definition)
  if (tooLong) fail(name, tooLong)
  return definition
}

/**
 * Validates a whole config document: `{ "migrations": [ … ], "groups": [ { "name": …, "migrations": [ … ] } ] }`.
 * A group's members carry its name (`group`), which is how it is stored and how the DAL routes them.
 */
export function parseConfig(document: unknown): MigrationDefinition[] {
  if (!isObject(document) || !Array.isArray(document.migrations)) {
    fail(
      undefined,
      'the config must be an object with a "migrations" list, such as {"migrations": [{"name": "users_v2", …}]}',
    )
  }
  if (document.migrations.length === 0)
    fail(undefined, 'the config\'s "migrations" list is empty; add at least one migration')
  document.migrations.forEach((m, i) => {
    if (isObject(m) && m.resolved !== undefined) {
      fail(
        typeof m.name === 'string' ? m.name : undefined,
        `migrations[${i}] has a "resolved" field, which register writes; remove it from the config`,
      )
    }
    if (isObject(m) && m.group !== undefined) {
      fail(
        typeof m.name === 'string' ? m.name : undefined,
        `migrations[${i}] has a "group" field; declare groups in the config's "groups" list, such as {"groups": [{"name": "catalog", "migrations": ["a", "b"]}]}`,
      )
    }
  })
  const groupOf = parseGroups(document.groups, document.migrations)
  const migrations = document.migrations.map((m, i) => {
    const group = isObject(m) && typeof m.name === 'string' ? groupOf.get(m.name) : undefined
    return parseMigration(group === undefined ? m : { ...(m as Json), group }, i)
  })
  const names = new Set<string>()
  const shadows = new Map<string, string>()
  for (const m of migrations) {
    if (names.has(m.name)) fail(m.name, 'is declared twice in the config; give each migration its own name')
    names.add(m.name)
    const shadowKey = `${m.shadow.table.schema}\u0000${m.shadow.table.name}`
    const other = shadows.get(shadowKey)
    if (other)
      fail(
        m.name,
        `uses the same shadow table ${m.shadow.table.schema}.${m.shadow.table.name} as migration "${other}"; each shadow table belongs to one migration`,
      )
    shadows.set(shadowKey, m.name)
    if (m.group !== undefined && m.routing.provider !== 'control') {
      fail(
        m.name,
        `belongs to group "${m.group}" and routes with ${m.routing.provider}; a group's one read percentage lives in the control schema, so remove "routing" from its members`,
      )
    }
  }
  return migrations
}

/** The config's `groups` list as member name → group name; each member declared in `migrations`, in one group. */
function parseGroups(value: unknown, migrations: readonly unknown[]): Map<string, string> {
  const groupOf = new Map<string, string>()
  if (value === undefined) return groupOf
  if (!Array.isArray(value))
    fail(undefined, 'the config\'s "groups" must be a list, such as [{"name": "catalog", "migrations": ["a", "b"]}]')
  const declared = new Set(migrations.map((m) => (isObject(m) ? m.name : undefined)))
  const groupNames = new Set<string>()
  value.forEach((g, i) => {
    if (!isObject(g))
      fail(undefined, `groups[${i}] must be an object like {"name": "catalog", "migrations": ["a", "b"]}`)
    const name = g.name
    if (typeof name !== 'string' || !MIGRATION_NAME_PATTERN.test(name) || name.length > 48) {
      fail(
        undefined,
        `groups[${i}].name ${show(name ?? null)} is not a valid name; use lower-case letters, digits and _ starting with a letter (at most 48), such as "catalog"`,
      )
    }
    for (const field of Object.keys(g))
      if (field !== 'name' && field !== 'migrations')
        fail(undefined, `group "${name}" has unknown field ${show(field)}; known fields: name, migrations`)
    if (groupNames.has(name)) fail(undefined, `group "${name}" is declared twice; give each group its own name`)
    if (declared.has(name))
      fail(
        undefined,
        `group "${name}" has the name of a migration; commands take either, so give the group a name of its own`,
      )
    groupNames.add(name)
    const members = g.migrations
    if (!Array.isArray(members) || members.length < 2 || !members.every((m) => typeof m === 'string')) {
      fail(undefined, `group "${name}": "migrations" must list at least two migration names, such as ["a", "b"]`)
    }
    for (const member of members as string[]) {
      if (!declared.has(member))
        fail(
          undefined,
          `group "${name}" lists "${member}", which is not in the config's "migrations"; declare it there or remove it from the group`,
        )
      const other = groupOf.get(member)
      if (other !== undefined)
        fail(member, `is listed in group "${other}" and in group "${name}"; a migration belongs to one group at most`)
      groupOf.set(member, name)
    }
  })
  return groupOf
}
