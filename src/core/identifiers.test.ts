import { describe, it, expect } from 'vitest'
import { ConfigInvalid } from './errors.js'
import { displayName, parseQualifiedName, quoteIdent, quoteQualified } from './identifiers.js'

describe('quoteIdent', () => {
  it('wraps a plain name in double quotes', () => {
    expect(quoteIdent('users')).toBe('"users"')
  })

  it('doubles a double quote inside the name', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"')
  })

  it('doubles every double quote of a name made only of quotes', () => {
    expect(quoteIdent('""')).toBe('""""""')
  })

  it('keeps upper-case letters, so the name is not folded to lower case', () => {
    expect(quoteIdent('UserId')).toBe('"UserId"')
  })

  it('keeps Unicode characters as they are', () => {
    expect(quoteIdent('prénom_日本_\u{1F600}')).toBe('"prénom_日本_\u{1F600}"')
  })

  it('leaves dots, spaces and semicolons inside the quotes', () => {
    expect(quoteIdent('a.b; DROP TABLE x')).toBe('"a.b; DROP TABLE x"')
  })

  it('refuses an empty name with a ConfigInvalid', () => {
    expect(() => quoteIdent('')).toThrow(ConfigInvalid)
    expect(() => quoteIdent('')).toThrow('an identifier cannot be empty')
  })

  it('refuses a name holding a NUL character with a ConfigInvalid', () => {
    expect(() => quoteIdent('a\u0000b')).toThrow(ConfigInvalid)
    expect(() => quoteIdent('a\u0000b')).toThrow('an identifier cannot contain a NUL character')
  })
})

describe('parseQualifiedName', () => {
  it('puts a bare table name in the public schema', () => {
    expect(parseQualifiedName('users')).toEqual({ schema: 'public', name: 'users' })
  })

  it('splits schema.table at the dot', () => {
    expect(parseQualifiedName('app.users')).toEqual({ schema: 'app', name: 'users' })
  })

  it('keeps the case of unquoted parts', () => {
    expect(parseQualifiedName('App.Users')).toEqual({ schema: 'App', name: 'Users' })
  })

  it('reads quoted parts holding a space and a dot', () => {
    expect(parseQualifiedName('"My Schema"."a.b"')).toEqual({ schema: 'My Schema', name: 'a.b' })
  })

  it('reads a quoted bare table name into the public schema', () => {
    expect(parseQualifiedName('"a.b"')).toEqual({ schema: 'public', name: 'a.b' })
  })

  it('mixes a quoted and an unquoted part', () => {
    expect(parseQualifiedName('app."Users"')).toEqual({ schema: 'app', name: 'Users' })
  })

  it('reads a doubled quote inside a quoted part as one quote', () => {
    expect(parseQualifiedName('"a""b".c')).toEqual({ schema: 'a"b', name: 'c' })
  })

  it('reads a quoted part made of one escaped quote', () => {
    expect(parseQualifiedName('app.""""')).toEqual({ schema: 'app', name: '"' })
  })

  it('keeps Unicode characters in unquoted parts', () => {
    expect(parseQualifiedName('données.utilisateurs')).toEqual({ schema: 'données', name: 'utilisateurs' })
  })

  it.each([
    { label: 'an empty string', text: '' },
    { label: 'three parts', text: 'a.b.c' },
    { label: 'an unterminated quoted part', text: '"unterminated' },
    { label: 'a quoted part whose closing quote is escaped', text: '"a""' },
    { label: 'an empty schema', text: '.x' },
    { label: 'an empty table name', text: 'x.' },
    { label: 'two dots in a row', text: 'a..b' },
    { label: 'an empty quoted part', text: '""' },
    { label: 'an empty quoted table name', text: 'a.""' },
    { label: 'a quote in the middle of an unquoted part', text: 'a"b' },
    { label: 'text after a closing quote', text: '"a"b' },
    { label: 'a lone dot', text: '.' },
  ])('refuses $label', ({ text }) => {
    expect(parseQualifiedName(text)).toBeUndefined()
  })
})

describe('quoteQualified', () => {
  it('quotes schema and name and joins them with a dot', () => {
    expect(quoteQualified({ schema: 'public', name: 'users' })).toBe('"public"."users"')
  })

  it('keeps dots and spaces inside the quoted parts', () => {
    expect(quoteQualified({ schema: 'My Schema', name: 'a.b' })).toBe('"My Schema"."a.b"')
  })

  it('doubles quotes inside either part', () => {
    expect(quoteQualified({ schema: 'a"b', name: 'c"' })).toBe('"a""b"."c"""')
  })

  it('gives back the quoted text it was parsed from', () => {
    const text = '"My ""Schema"""."a.b"'
    const parsed = parseQualifiedName(text)
    expect(parsed).toBeDefined()
    expect(quoteQualified(parsed!)).toBe(text)
  })

  it('refuses an empty schema with a ConfigInvalid', () => {
    expect(() => quoteQualified({ schema: '', name: 'users' })).toThrow(ConfigInvalid)
  })
})

describe('displayName', () => {
  it('joins schema and name without quoting', () => {
    expect(displayName({ schema: 'My Schema', name: 'a.b' })).toBe('My Schema.a.b')
  })
})
