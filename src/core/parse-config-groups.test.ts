import { describe, expect, it } from 'vitest'
import { definitionToJson } from './definition-json.js'
import { ConfigInvalid } from './errors.js'
import { parseConfig, parseMigration } from './parse-config.js'

const member = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  legacy: { table: `public.${name}_old`, key: ['id'] },
  shadow: { table: `public.${name}_new`, key: ['id'] },
  ...extra,
})

function refusal(document: unknown): string {
  try {
    parseConfig(document)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigInvalid)
    return (error as Error).message
  }
  throw new Error('expected a refusal')
}

describe('config groups', () => {
  it('gives each member of a group its group name, and leaves the others without one', () => {
    const parsed = parseConfig({
      migrations: [member('a'), member('b'), member('c')],
      groups: [{ name: 'studio', migrations: ['a', 'b'] }],
    })
    expect(parsed.map((m) => [m.name, m.group])).toEqual([
      ['a', 'studio'],
      ['b', 'studio'],
      ['c', undefined],
    ])
  })

  it('stores the group with the definition and reads it back equal', () => {
    const [a] = parseConfig({
      migrations: [member('a'), member('b')],
      groups: [{ name: 'studio', migrations: ['a', 'b'] }],
    })
    expect(parseMigration(definitionToJson(a!))).toEqual(a)
    expect(definitionToJson(parseMigration(member('c')))).not.toHaveProperty('group')
  })

  it('refuses a group member that is not declared, naming it', () => {
    expect(
      refusal({ migrations: [member('a'), member('b')], groups: [{ name: 'studio', migrations: ['a', 'x'] }] }),
    ).toBe(
      'group "studio" lists "x", which is not in the config\'s "migrations"; declare it there or remove it from the group',
    )
  })

  it('refuses a migration in two groups', () => {
    expect(
      refusal({
        migrations: [member('a'), member('b'), member('c')],
        groups: [
          { name: 'g1', migrations: ['a', 'b'] },
          { name: 'g2', migrations: ['b', 'c'] },
        ],
      }),
    ).toMatch(/^migration "b": is listed in group "g1" and in group "g2"/)
  })

  it('refuses a group named like a migration, a group of one, and a group field written inline', () => {
    expect(
      refusal({ migrations: [member('a'), member('b')], groups: [{ name: 'a', migrations: ['a', 'b'] }] }),
    ).toMatch(/has the name of a migration/)
    expect(refusal({ migrations: [member('a'), member('b')], groups: [{ name: 'g', migrations: ['a'] }] })).toMatch(
      /at least two migration names/,
    )
    expect(refusal({ migrations: [member('a', { group: 'g' }), member('b')] })).toMatch(
      /declare groups in the config's "groups" list/,
    )
  })

  it('refuses an Unleash-routed group member: the group has one percentage, in the control schema', () => {
    expect(
      refusal({
        migrations: [member('a', { routing: { provider: 'unleash' } }), member('b')],
        groups: [{ name: 'g', migrations: ['a', 'b'] }],
      }),
    ).toMatch(/^migration "a": belongs to group "g" and routes with unleash/)
  })
})
