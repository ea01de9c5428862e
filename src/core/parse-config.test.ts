import { describe, it, expect } from 'vitest'
import { DEFAULT_GUARDRAILS } from './definition.js'
import { ConfigInvalid } from './errors.js'
import { parseConfig, parseMigration } from './parse-config.js'

type Json = Record<string, unknown>

/** A valid migration in config shape, with only the required fields. */
function minimal(overrides: Json = {}): Json {
  return {
    name: 'users_v2',
    legacy: { table: 'public.users', key: ['id'] },
    shadow: { table: 'public.users_v2', key: ['id'] },
    ...overrides,
  }
}

/** The example of docs/design.md § 1: every optional field but the numbers and guardrails. */
function full(): Json {
  return {
    name: 'generated_assets',
    legacy: { table: 'public.generated_image', key: ['id'] },
    shadow: { table: 'public.generated_asset', key: ['id'] },
    forward: { asset_url: 'r2_key', owner_id: 'owner_id::uuid' },
    backward: { r2_key: 'asset_url', owner_id: 'owner_id::text' },
    compare: { created_at: 'timestamp_ms', title: 'trim' },
    onSecondaryError: 'record',
    routing: { provider: 'control' },
  }
}

/** Runs `parse` and returns the ConfigInvalid it throws; fails the test on success or another error. */
function refusal(parse: () => unknown): ConfigInvalid {
  let thrown: unknown
  try {
    parse()
  } catch (error) {
    thrown = error
  }
  expect(thrown, 'expected a ConfigInvalid refusal').toBeInstanceOf(ConfigInvalid)
  const error = thrown as ConfigInvalid
  expect(error.message).not.toContain('\n')
  return error
}

/** The refusal of a config holding the one migration `migration`. */
function refusalOf(migration: unknown): ConfigInvalid {
  return refusal(() => parseConfig({ migrations: [migration] }))
}

describe('parseConfig: valid definitions', () => {
  it('parses the full example definition into the expected object with defaults filled in', () => {
    expect(parseConfig({ migrations: [full()] })).toEqual([
      {
        name: 'generated_assets',
        legacy: { table: { schema: 'public', name: 'generated_image' }, key: ['id'] },
        shadow: { table: { schema: 'public', name: 'generated_asset' }, key: ['id'] },
        forward: { asset_url: 'r2_key', owner_id: 'owner_id::uuid' },
        backward: { r2_key: 'asset_url', owner_id: 'owner_id::text' },
        compare: { created_at: 'timestamp_ms', title: 'trim' },
        onSecondaryError: 'record',
        routing: { provider: 'control' },
        compareSample: 0.01,
        shadowReadSample: 1,
        soakSeconds: 3600,
        guardrails: DEFAULT_GUARDRAILS,
        retireSoakSeconds: 86_400,
        trustedSchemas: [],
      },
    ])
  })

  it('fills every optional field with its default when only name, legacy and shadow are given', () => {
    const [definition] = parseConfig({ migrations: [minimal()] })
    expect(definition).toEqual({
      name: 'users_v2',
      legacy: { table: { schema: 'public', name: 'users' }, key: ['id'] },
      shadow: { table: { schema: 'public', name: 'users_v2' }, key: ['id'] },
      forward: {},
      backward: {},
      compare: {},
      onSecondaryError: 'fail',
      routing: { provider: 'control' },
      compareSample: 0.01,
      shadowReadSample: 1,
      soakSeconds: 3600,
      guardrails: DEFAULT_GUARDRAILS,
      retireSoakSeconds: 86_400,
      trustedSchemas: [],
    })
  })

  it('keeps explicit sample rates, soak time and guardrails', () => {
    const [definition] = parseConfig({
      migrations: [
        minimal({
          compareSample: 0.5,
          shadowReadSample: 0,
          soakSeconds: 0,
          guardrails: { maxDivergencesPerMinute: 10, maxP99Ratio: 2.5, windowSeconds: 120, minSamples: 5 },
        }),
      ],
    })
    expect(definition).toMatchObject({
      compareSample: 0.5,
      shadowReadSample: 0,
      soakSeconds: 0,
      guardrails: { maxDivergencesPerMinute: 10, maxP99Ratio: 2.5, windowSeconds: 120, minSamples: 5 },
    })
  })

  it('fills guardrail bounds left out with their defaults', () => {
    const [definition] = parseConfig({ migrations: [minimal({ guardrails: { maxP99Ratio: 3 } })] })
    expect(definition?.guardrails).toEqual({ ...DEFAULT_GUARDRAILS, maxP99Ratio: 3 })
  })

  it('accepts the unleash routing provider with a toggle name', () => {
    const [definition] = parseConfig({
      migrations: [minimal({ routing: { provider: 'unleash', toggle: 'users.shadow' } })],
    })
    expect(definition?.routing).toEqual({ provider: 'unleash', toggle: 'users.shadow' })
  })

  it('defaults the routing provider to control when routing names none', () => {
    const [definition] = parseConfig({ migrations: [minimal({ routing: {} })] })
    expect(definition?.routing).toEqual({ provider: 'control' })
  })

  it('accepts composite keys whose columns are renamed on the shadow side', () => {
    const [definition] = parseConfig({
      migrations: [
        minimal({
          legacy: { table: 'orders', key: ['tenant', 'order_no'] },
          shadow: { table: 'orders_v2', key: ['tenant_id', 'order_id'] },
        }),
      ],
    })
    expect(definition?.legacy.key).toEqual(['tenant', 'order_no'])
    expect(definition?.shadow.key).toEqual(['tenant_id', 'order_id'])
  })

  it('accepts numeric:N normalisers', () => {
    const [definition] = parseConfig({ migrations: [minimal({ compare: { price: 'numeric:2', qty: 'numeric:0' } })] })
    expect(definition?.compare).toEqual({ price: 'numeric:2', qty: 'numeric:0' })
  })

  it('reads a quoted schema and table name exactly, dots and spaces included', () => {
    const [definition] = parseConfig({ migrations: [minimal({ legacy: { table: '"My Schema"."a.b"', key: ['id'] } })] })
    expect(definition?.legacy.table).toEqual({ schema: 'My Schema', name: 'a.b' })
  })

  it('puts a table named without a schema in the public schema', () => {
    const [definition] = parseConfig({ migrations: [minimal({ legacy: { table: 'users', key: ['id'] } })] })
    expect(definition?.legacy.table).toEqual({ schema: 'public', name: 'users' })
  })

  it('keeps the case of unquoted table names', () => {
    const [definition] = parseConfig({ migrations: [minimal({ shadow: { table: 'App.UsersV2', key: ['id'] } })] })
    expect(definition?.shadow.table).toEqual({ schema: 'App', name: 'UsersV2' })
  })

  it('accepts a name of 48 characters', () => {
    const name = `a${'b'.repeat(47)}`
    expect(parseConfig({ migrations: [minimal({ name })] })[0]?.name).toBe(name)
  })

  it('parses several migrations in their order', () => {
    const second = minimal({
      name: 'orders_v2',
      legacy: { table: 'orders', key: ['id'] },
      shadow: { table: 'orders_v2', key: ['id'] },
    })
    expect(parseConfig({ migrations: [minimal(), second] }).map((m) => m.name)).toEqual(['users_v2', 'orders_v2'])
  })
})

describe('parseMigration', () => {
  it('parses one migration definition on its own', () => {
    expect(parseMigration(full()).name).toBe('generated_assets')
  })

  it('names the index it was given when the migration is not an object', () => {
    expect(refusal(() => parseMigration('users_v2', 3)).message).toBe('migrations[3] must be an object')
  })
})

describe('parseConfig: refusals of the document', () => {
  it('refuses with a ConfigInvalid whose exit code is 2', () => {
    const error = refusal(() => parseConfig({ migrations: [] }))
    expect(error.exitCode).toBe(2)
  })

  it.each([
    { label: 'a string', document: 'migrations' },
    { label: 'null', document: null },
    { label: 'an array', document: [minimal()] },
  ])('refuses a document that is $label, showing the expected shape', ({ document }) => {
    expect(refusal(() => parseConfig(document)).message).toBe(
      'the config must be an object with a "migrations" list, such as {"migrations": [{"name": "users_v2", …}]}',
    )
  })

  it('refuses a document with no "migrations" field', () => {
    expect(refusal(() => parseConfig({ migration: [minimal()] })).message).toContain(
      'must be an object with a "migrations" list',
    )
  })

  it('refuses a "migrations" field that is an object rather than a list', () => {
    expect(refusal(() => parseConfig({ migrations: {} })).message).toContain(
      'must be an object with a "migrations" list',
    )
  })

  it('refuses an empty migrations list, saying to add one', () => {
    expect(refusal(() => parseConfig({ migrations: [] })).message).toBe(
      'the config\'s "migrations" list is empty; add at least one migration',
    )
  })

  it('refuses a list entry that is not an object, naming its index', () => {
    expect(refusal(() => parseConfig({ migrations: [minimal(), 42] })).message).toBe('migrations[1] must be an object')
  })
})

describe('parseConfig: refusals of a migration name', () => {
  it.each([
    { label: 'upper-case letters', name: 'Users_v2' },
    { label: 'a leading digit', name: '2users' },
    { label: 'a hyphen', name: 'users-v2' },
    { label: 'an empty string', name: '' },
    { label: 'more than 48 characters', name: `a${'b'.repeat(48)}` },
    { label: 'a number', name: 7 },
  ])('refuses a name with $label, saying which names are valid', ({ name }) => {
    expect(refusalOf(minimal({ name })).message).toBe(
      `migrations[0].name ${JSON.stringify(name)} is not a valid name; use lower-case letters, digits and _ starting with a letter (at most 48), such as "users_v2"`,
    )
  })

  it('refuses a missing name, showing it as null', () => {
    const { name: _name, ...rest } = minimal()
    expect(refusalOf(rest).message).toContain('migrations[0].name null is not a valid name')
  })

  it('names the index of the migration whose name is bad', () => {
    expect(refusal(() => parseConfig({ migrations: [minimal(), minimal({ name: 'Bad' })] })).message).toMatch(
      /^migrations\[1\]\.name /,
    )
  })
})

describe('parseConfig: refusals of migration fields', () => {
  it('refuses an unknown field, naming the migration, the field and the known fields', () => {
    const error = refusalOf(minimal({ forwards: {} }))
    expect(error.migration).toBe('users_v2')
    expect(error.message).toBe(
      'migration "users_v2": unknown field "forwards"; known fields: name, legacy, shadow, forward, backward, compare, onSecondaryError, routing, compareSample, shadowReadSample, soakSeconds, guardrails, retireSoakSeconds, trustedSchemas, session',
    )
  })

  it('refuses a legacy side that is not an object, showing the expected shape', () => {
    expect(refusalOf(minimal({ legacy: 'public.users' })).message).toBe(
      'migration "users_v2": "legacy" must be an object like {"table": "public.users", "key": ["id"]}',
    )
  })

  it('refuses a shadow side that is null', () => {
    expect(refusalOf(minimal({ shadow: null })).message).toBe(
      'migration "users_v2": "shadow" must be an object like {"table": "public.users", "key": ["id"]}',
    )
  })

  it('refuses a shadow side that is a list', () => {
    expect(refusalOf(minimal({ shadow: ['public.users_v2'] })).message).toContain('"shadow" must be an object like')
  })

  it('refuses a table that is not a string', () => {
    expect(refusalOf(minimal({ legacy: { table: 5, key: ['id'] } })).message).toBe(
      'migration "users_v2": "legacy.table" must be a string such as "public.users"',
    )
  })

  it.each([
    { label: 'three parts', table: 'a.b.c' },
    { label: 'an unterminated quote', table: '"unterminated' },
    { label: 'an empty schema', table: '.x' },
    { label: 'an empty table name', table: 'x.' },
    { label: 'nothing at all', table: '' },
  ])('refuses table text with $label, saying how to write a table name', ({ table }) => {
    expect(refusalOf(minimal({ shadow: { table, key: ['id'] } })).message).toBe(
      `migration "users_v2": "shadow.table" ${JSON.stringify(table)} is not a table name; write schema.table, double-quoting a part that holds a dot or a quote`,
    )
  })

  it.each([
    { label: 'a string', key: 'id' },
    { label: 'missing', key: undefined },
    { label: 'an empty list', key: [] },
    { label: 'a list holding a number', key: [1] },
    { label: 'a list holding an empty name', key: [''] },
  ])('refuses a key that is $label, showing a valid key', ({ key }) => {
    expect(refusalOf(minimal({ legacy: { table: 'public.users', key } })).message).toBe(
      'migration "users_v2": "legacy.key" must be a non-empty list of column names, such as ["id"]',
    )
  })

  it('refuses a key that names a column twice', () => {
    expect(refusalOf(minimal({ shadow: { table: 'public.users_v2', key: ['id', 'id'] } })).message).toBe(
      'migration "users_v2": "shadow.key" names column "id" twice; list each key column once',
    )
  })

  it('refuses legacy and shadow keys of different lengths, saying to list the same logical key', () => {
    const migration = minimal({ legacy: { table: 'public.users', key: ['tenant', 'id'] } })
    expect(refusalOf(migration).message).toBe(
      'migration "users_v2": "legacy.key" has 2 columns and "shadow.key" 1; list the same logical key on both sides',
    )
  })

  it('refuses a forward mapping that is not an object', () => {
    expect(refusalOf(minimal({ forward: 'upper(name)' })).message).toBe(
      'migration "users_v2": "forward" must be an object of column name to SQL expression',
    )
  })

  it('refuses a forward expression that is not a string, naming the column', () => {
    expect(refusalOf(minimal({ forward: { owner_id: 42 } })).message).toBe(
      'migration "users_v2": "forward.owner_id" must be an SQL expression string',
    )
  })

  it('refuses a backward expression that is null, naming the column', () => {
    expect(refusalOf(minimal({ backward: { owner_id: null } })).message).toBe(
      'migration "users_v2": "backward.owner_id" must be an SQL expression string',
    )
  })

  it('refuses a forward expression the guard rejects, giving the reason and the legacy table as the source', () => {
    expect(refusalOf(minimal({ forward: { name: '1); DROP TABLE x; --' } })).message).toBe(
      'migration "users_v2": "forward.name" expression closes a parenthesis it did not open; write a single SQL expression over the legacy table\'s columns',
    )
  })

  it('refuses a backward expression the guard rejects, giving the shadow table as the source', () => {
    expect(refusalOf(minimal({ backward: { name: 'a; b' } })).message).toBe(
      'migration "users_v2": "backward.name" expression contains ";" (one expression only); write a single SQL expression over the shadow table\'s columns',
    )
  })

  it('refuses a compare setting that is not an object', () => {
    expect(refusalOf(minimal({ compare: 'trim' })).message).toBe(
      'migration "users_v2": "compare" must be an object of shadow column to normaliser',
    )
  })

  it.each([
    { label: 'upper', spec: 'upper' },
    { label: 'numeric:x', spec: 'numeric:x' },
    { label: 'numeric:31', spec: 'numeric:31' },
    { label: 'a number', spec: 3 },
  ])('refuses the unknown normaliser $label, listing the known ones', ({ spec }) => {
    expect(refusalOf(minimal({ compare: { title: spec } })).message).toBe(
      `migration "users_v2": "compare.title" has unknown normaliser ${JSON.stringify(spec)}; known: timestamp_ms, timestamp_s, trim, lower, numeric:N`,
    )
  })

  it('refuses an onSecondaryError other than fail or record', () => {
    expect(refusalOf(minimal({ onSecondaryError: 'ignore' })).message).toBe(
      'migration "users_v2": "onSecondaryError" must be "fail" or "record", not "ignore"',
    )
  })

  it('refuses a routing provider other than control or unleash', () => {
    expect(refusalOf(minimal({ routing: { provider: 'launchdarkly' } })).message).toBe(
      'migration "users_v2": "routing.provider" must be "control" or "unleash", not "launchdarkly"',
    )
  })

  it('refuses routing that is not an object', () => {
    expect(refusalOf(minimal({ routing: 'unleash' })).message).toBe(
      'migration "users_v2": "routing" must be an object like {"provider": "control"}',
    )
  })

  it('refuses a routing toggle that is not a string', () => {
    expect(refusalOf(minimal({ routing: { provider: 'unleash', toggle: 1 } })).message).toBe(
      'migration "users_v2": "routing.toggle" must be a string',
    )
  })

  it('refuses a compareSample above 1, giving the allowed range', () => {
    expect(refusalOf(minimal({ compareSample: 2 })).message).toBe(
      'migration "users_v2": "compareSample" must be a number from 0 to 1, not 2',
    )
  })

  it('refuses a negative soakSeconds, giving the allowed range', () => {
    expect(refusalOf(minimal({ soakSeconds: -1 })).message).toBe(
      'migration "users_v2": "soakSeconds" must be a number from 0 to 31536000, not -1',
    )
  })

  it('refuses a string where a number is expected, showing the string', () => {
    expect(refusalOf(minimal({ shadowReadSample: '0.5' })).message).toBe(
      'migration "users_v2": "shadowReadSample" must be a number from 0 to 1, not "0.5"',
    )
  })

  it('refuses a guardrails setting that is not an object', () => {
    expect(refusalOf(minimal({ guardrails: 5 })).message).toBe('migration "users_v2": "guardrails" must be an object')
  })

  it('refuses an out-of-range guardrail, naming it by its full path', () => {
    expect(refusalOf(minimal({ guardrails: { windowSeconds: 0 } })).message).toBe(
      'migration "users_v2": "guardrails.windowSeconds" must be a number from 1 to 86400, not 0',
    )
  })
})

describe('parseConfig: refusals across migrations', () => {
  it('refuses two migrations with the same name, saying to give each its own', () => {
    const other = minimal({ shadow: { table: 'public.users_v3', key: ['id'] } })
    const error = refusal(() => parseConfig({ migrations: [minimal(), other] }))
    expect(error.message).toBe(
      'migration "users_v2": is declared twice in the config; give each migration its own name',
    )
  })

  it('refuses two migrations on one shadow table, even when one leaves out the public schema', () => {
    const first = minimal({ name: 'first' })
    const second = minimal({ name: 'second', shadow: { table: 'users_v2', key: ['id'] } })
    const error = refusal(() => parseConfig({ migrations: [first, second] }))
    expect(error.migration).toBe('second')
    expect(error.message).toBe(
      'migration "second": uses the same shadow table public.users_v2 as migration "first"; each shadow table belongs to one migration',
    )
  })

  it('allows two migrations whose shadow tables differ only in case', () => {
    const first = minimal({ name: 'first', shadow: { table: 'public.Users_v2', key: ['id'] } })
    const second = minimal({ name: 'second' })
    expect(parseConfig({ migrations: [first, second] })).toHaveLength(2)
  })

  it('names the failing migration when an earlier one is valid', () => {
    const error = refusal(() =>
      parseConfig({ migrations: [minimal(), minimal({ name: 'orders_v2', soakSeconds: 'long' })] }),
    )
    expect(error.migration).toBe('orders_v2')
  })
})

describe('parseConfig: regressions found by the config tests', () => {
  // A BigInt (possible in an .mjs config) reaches JSON.stringify in the message and throws a TypeError.
  it('refuses a BigInt where a number is expected with a ConfigInvalid', () => {
    expect(refusalOf(minimal({ compareSample: 1n })).message).toContain('"compareSample" must be a number from 0 to 1')
  })

  // A field name holding a newline is pasted raw into the message, which then spans two lines.
  it('keeps the message on one line when an unknown field name holds a newline', () => {
    expect(refusalOf(minimal({ 'bad\nfield': 1 })).message).toContain('unknown field')
  })

  // `out[column] = …` with column "__proto__" sets the prototype instead of an entry, so the mapping is silently lost.
  it('keeps a forward mapping for a column named __proto__', () => {
    const forward = JSON.parse('{"__proto__": "upper(name)"}') as unknown
    const [definition] = parseConfig({ migrations: [minimal({ forward })] })
    expect(Object.entries(definition?.forward ?? {})).toEqual([['__proto__', 'upper(name)']])
  })
})

describe('parseConfig: trusted schemas and resolved expressions (issue 23)', () => {
  const base = { name: 'users_v2', legacy: { table: 'users', key: ['id'] }, shadow: { table: 'users_v2', key: ['id'] } }
  const refusal = (migration: Record<string, unknown>): string => {
    try {
      parseConfig({ migrations: [migration] })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigInvalid)
      return (error as Error).message
    }
    throw new Error('accepted')
  }

  it('takes the schemas a mapping may name unqualified, none by default', () => {
    expect(parseConfig({ migrations: [base] })[0]?.trustedSchemas).toEqual([])
    expect(parseConfig({ migrations: [{ ...base, trustedSchemas: ['public', 'app'] }] })[0]?.trustedSchemas).toEqual([
      'public',
      'app',
    ])
  })

  it('refuses pg_temp and pg_catalog as trusted schemas, naming why', () => {
    expect(refusal({ ...base, trustedSchemas: ['pg_temp'] })).toBe(
      'migration "users_v2": "trustedSchemas" may not list "pg_temp"; pg_catalog is always trusted, and temporary objects never are',
    )
    expect(refusal({ ...base, trustedSchemas: ['pg_catalog'] })).toContain('may not list "pg_catalog"')
  })

  it('refuses resolved expressions in a config file: only register writes them', () => {
    expect(refusal({ ...base, resolved: { forward: { a: 'evil()' }, backward: {} } })).toBe(
      'migration "users_v2": migrations[0] has a "resolved" field, which register writes; remove it from the config',
    )
  })

  it('reads the resolved expressions of a stored definition', () => {
    expect(
      parseMigration({
        ...base,
        forward: { a: 'lower(b)' },
        resolved: { forward: { a: 'lower((b)::text)' }, backward: {} },
      }).resolved,
    ).toEqual({ forward: { a: 'lower((b)::text)' }, backward: {} })
  })
})
