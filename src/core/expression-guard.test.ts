import { describe, it, expect } from 'vitest'
import { expressionProblem } from './expression-guard.js'

describe('expressionProblem: accepted expressions', () => {
  it.each([
    { label: 'a function call', expression: 'upper(name)' },
    { label: 'a cast', expression: 'owner_id::uuid' },
    { label: 'a semicolon inside a string literal', expression: "coalesce(a, 'x;y')" },
    { label: 'a semicolon inside a quoted identifier', expression: '"weird;col"' },
    { label: 'a CASE expression', expression: 'CASE WHEN a THEN 1 ELSE 2 END' },
    { label: 'nested parentheses', expression: 'round((price * (1 + tax))::numeric, 2)' },
    { label: 'a doubled quote inside a string literal', expression: "coalesce(title, 'it''s')" },
    { label: 'a doubled quote inside a quoted identifier', expression: '"a""b" || \'x\'' },
    { label: 'comment markers inside a string literal', expression: "'-- not /* a comment'" },
    { label: 'parentheses inside a string literal', expression: "concat('((', name, ')')" },
    { label: 'a JSON operator', expression: "payload->>'title'" },
    { label: 'a subtraction of a negative number', expression: 'a - -1' },
    { label: 'a division', expression: 'a / 2' },
    { label: 'a column name holding a dollar sign', expression: 'price$1 * 2' },
    { label: 'non-ASCII text in a string literal', expression: "name || ' – é日本'" },
  ])('accepts $label', ({ expression }) => {
    expect(expressionProblem(expression)).toBeUndefined()
  })
})

describe('expressionProblem: refused expressions', () => {
  it('refuses an attempt to close the expression and run another statement', () => {
    expect(expressionProblem('1); DROP TABLE x; --')).toBe('closes a parenthesis it did not open')
  })

  it('refuses a statement separator outside quotes', () => {
    expect(expressionProblem('a; DROP TABLE x')).toBe('contains ";" (one expression only)')
  })

  it('refuses a line comment', () => {
    expect(expressionProblem('a -- c')).toBe('contains a "--" comment')
  })

  it('refuses a block comment', () => {
    expect(expressionProblem('a /* c */')).toBe('contains a "/*" comment')
  })

  it('refuses a parenthesis left open', () => {
    expect(expressionProblem('(a')).toBe('leaves a parenthesis open')
  })

  it('refuses a parenthesis closed without being opened', () => {
    expect(expressionProblem('a)')).toBe('closes a parenthesis it did not open')
  })

  it('refuses a closing parenthesis that comes before its opening one', () => {
    expect(expressionProblem(')a(')).toBe('closes a parenthesis it did not open')
  })

  it('refuses an unterminated string literal', () => {
    expect(expressionProblem("'unterminated")).toBe('has an unterminated string')
  })

  it('refuses a string literal whose last quote is an escaped one', () => {
    expect(expressionProblem("'it''")).toBe('has an unterminated string')
  })

  it('refuses an unterminated quoted identifier', () => {
    expect(expressionProblem('"unterminated')).toBe('has an unterminated quoted identifier')
  })

  it('refuses empty dollar quoting', () => {
    expect(expressionProblem('$$x$$')).toBe('uses dollar quoting, which a mapping expression does not need')
  })

  it('refuses tagged dollar quoting', () => {
    expect(expressionProblem('$tag$x$tag$')).toBe('uses dollar quoting, which a mapping expression does not need')
  })

  it('refuses a backslash, whose meaning in E strings the guard does not model', () => {
    expect(expressionProblem("E'a\\'b'")).toBe('contains a backslash')
  })

  it('refuses a NUL character', () => {
    expect(expressionProblem('a\u0000b')).toBe('contains a NUL character')
  })

  it('refuses an empty expression', () => {
    expect(expressionProblem('')).toBe('is empty')
  })

  it('refuses a blank expression', () => {
    expect(expressionProblem(' \t\n ')).toBe('is empty')
  })
})

describe('expressionProblem: regressions found by the config tests', () => {
  // PostgreSQL dollar-quote tags may hold digits and non-ASCII letters ($a1$, $é$); the guard only
  // recognises [A-Za-z_]*, so it reads the `'` inside the dollar quote as opening a string and misses
  // the statement after it. Checked against PostgreSQL: the DROP runs.
  it('refuses dollar quoting whose tag holds a digit', () => {
    expect(expressionProblem("$a1$'$a1$; DROP TABLE x; --'")).toBe(
      'uses dollar quoting, which a mapping expression does not need',
    )
  })

  it('refuses dollar quoting whose tag holds a non-ASCII letter', () => {
    expect(expressionProblem("$é$'$é$; DROP TABLE x; --'")).toBe(
      'uses dollar quoting, which a mapping expression does not need',
    )
  })
})
