import { describe, it, expect } from 'vitest'
import { isNormaliser, NORMALISER_NAMES, normaliserSql, parseNormaliser } from './normalisers.js'

const COLUMN = '"l"."created_at"'

describe('parseNormaliser', () => {
  it('parses each named normaliser', () => {
    expect(parseNormaliser('timestamp_ms')).toEqual({ kind: 'timestamp_ms' })
    expect(parseNormaliser('timestamp_s')).toEqual({ kind: 'timestamp_s' })
    expect(parseNormaliser('trim')).toEqual({ kind: 'trim' })
    expect(parseNormaliser('lower')).toEqual({ kind: 'lower' })
  })

  it('parses numeric with a scale from 0 to 30', () => {
    expect(parseNormaliser('numeric:0')).toEqual({ kind: 'numeric', scale: 0 })
    expect(parseNormaliser('numeric:2')).toEqual({ kind: 'numeric', scale: 2 })
    expect(parseNormaliser('numeric:30')).toEqual({ kind: 'numeric', scale: 30 })
  })

  it('refuses unknown normalisers and malformed numeric scales', () => {
    for (const spec of [
      'upper',
      'numeric',
      'numeric:',
      'numeric:x',
      'numeric:-1',
      'numeric:31',
      'numeric:1.5',
      'numeric: 2',
      'numeric:2 ',
      'numeric:1e1',
      'numeric:2; drop table t',
      'TRIM',
      ' trim',
      '',
      'toString',
    ]) {
      expect(parseNormaliser(spec), spec).toBeNull()
      expect(isNormaliser(spec), spec).toBe(false)
    }
  })

  it('accepts every known normaliser in isNormaliser', () => {
    for (const spec of ['timestamp_ms', 'timestamp_s', 'trim', 'lower', 'numeric:4'])
      expect(isNormaliser(spec)).toBe(true)
  })
})

describe('normaliserSql', () => {
  it('truncates to milliseconds for timestamp_ms', () => {
    expect(normaliserSql('timestamp_ms', COLUMN)).toBe(`date_trunc('milliseconds', ("l"."created_at"))`)
  })

  it('truncates to seconds for timestamp_s', () => {
    expect(normaliserSql('timestamp_s', COLUMN)).toBe(`date_trunc('second', ("l"."created_at"))`)
  })

  it('trims both ends as text for trim', () => {
    expect(normaliserSql('trim', '"title"')).toBe('btrim(("title")::text)')
  })

  it('lowercases as text for lower', () => {
    expect(normaliserSql('lower', '"email"')).toBe('lower(("email")::text)')
  })

  it('rounds to N decimal places for numeric:N', () => {
    expect(normaliserSql('numeric:2', '"price" * 1.1')).toBe('round(("price" * 1.1)::numeric, 2)')
    expect(normaliserSql('numeric:0', '"qty"')).toBe('round(("qty")::numeric, 0)')
  })

  it('throws on an unknown normaliser, naming the known ones', () => {
    expect(() => normaliserSql('upper', '"x"')).toThrow(`unknown normaliser "upper"; known: ${NORMALISER_NAMES}`)
    expect(() => normaliserSql('numeric:x', '"x"')).toThrow(/known: timestamp_ms, timestamp_s, trim, lower, numeric:N/)
  })
})
