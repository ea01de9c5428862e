import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { canonicalJsonNumbers, canonicalNumber, topLevelMembers } from './json-text.js'

/** A decimal's exact value as (mantissa, power of ten), reduced, for comparing values without doubles. */
function exactValue(text: string): string {
  const [mantissa = '', exponent = '0'] = text.toLowerCase().split('e')
  const [whole = '', fraction = ''] = mantissa.split('.')
  let digits = BigInt(`${whole.startsWith('-') ? '-' : ''}${whole.replace('-', '') || '0'}${fraction}`)
  let power = Number(exponent) - fraction.length
  if (digits === 0n) return '0'
  while (digits % 10n === 0n) {
    digits /= 10n
    power++
  }
  return `${digits}@${power}`
}

const decimal = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.nat({ max: 25 }), fc.nat({ max: 4 }))
  .map(([negative, digits, scale, zeros]) => {
    const padded = digits.toString().padStart(scale + 1, '0')
    const text = scale === 0 ? padded : `${padded.slice(0, -scale)}.${padded.slice(-scale)}`
    return `${negative ? '-' : ''}${text}${scale > 0 ? '0'.repeat(zeros) : ''}`
  })

describe('canonicalNumber', () => {
  it('prints each value one way, keeping it plain when written plain', () => {
    expect(['1', '1.0', '1.000'].map(canonicalNumber)).toEqual(['1', '1', '1'])
    expect(['2.50', '-0', '-0.000', '0.0010', '100', '-12.340'].map(canonicalNumber)).toEqual([
      '2.5',
      '0',
      '0',
      '0.001',
      '100',
      '-12.34',
    ])
    expect(canonicalNumber('12345678901234567890')).toBe('12345678901234567890')
    expect(canonicalNumber('12345678901234567891')).not.toBe(canonicalNumber('12345678901234567890'))
    expect([canonicalNumber('1e2'), canonicalNumber('100e0'), canonicalNumber('0.1E3')]).toEqual(['1e2', '1e2', '1e2'])
  })

  it('gives equal texts exactly for equal values (property, 40-digit decimals at any scale)', () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        expect(canonicalNumber(a) === canonicalNumber(b)).toBe(exactValue(a) === exactValue(b))
        expect(exactValue(canonicalNumber(a))).toBe(exactValue(a))
      }),
    )
    fc.assert(
      fc.property(decimal, fc.nat({ max: 5 }), (a, zeros) => {
        const padded = a.includes('.') ? a + '0'.repeat(zeros) : `${a}.${'0'.repeat(zeros + 1)}`
        expect(canonicalNumber(padded)).toBe(canonicalNumber(a))
      }),
    )
  })
})

describe('canonicalJsonNumbers', () => {
  it('rewrites numbers outside strings and leaves strings alone, escaped quotes included', () => {
    expect(
      canonicalJsonNumbers('{"a": "1.0", "b": 1.0, "c": [2.50, -0], "d": "say \\"1.0\\"", "e": 12345678901234567891}'),
    ).toBe('{"a": "1.0", "b": 1, "c": [2.5, 0], "d": "say \\"1.0\\"", "e": 12345678901234567891}')
    expect(canonicalJsonNumbers('"1.0"')).toBe('"1.0"')
    expect(canonicalJsonNumbers('3.10')).toBe('3.1')
    expect(canonicalJsonNumbers('{"k1.0": true, "n": null}')).toBe('{"k1.0": true, "n": null}')
  })

  it('keeps the meaning of any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        const text = JSON.stringify(value)
        expect(JSON.parse(canonicalJsonNumbers(text))).toEqual(JSON.parse(text))
      }),
    )
  })
})

describe('topLevelMembers', () => {
  it('splits an object into its members, each value as its own text', () => {
    const members = topLevelMembers('{"a": 1.50, "b": [2, "x,]}"], "c": {"d": "}"}, "e\\"q": null, "f": "a\\\\"}')
    expect([...members]).toEqual([
      ['a', '1.50'],
      ['b', '[2, "x,]}"]'],
      ['c', '{"d": "}"}'],
      ['e"q', 'null'],
      ['f', '"a\\\\"'],
    ])
    expect([...topLevelMembers('{}')]).toEqual([])
  })

  it('refuses text that is not one object', () => {
    for (const text of ['[1]', '1', '{"a" 1}', '{"a": 1', ''])
      expect(() => topLevelMembers(text), text).toThrow(/not a JSON object/)
  })

  it('finds every member of any object (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), (object) => {
        const members = topLevelMembers(JSON.stringify(object, null, 1))
        expect(Object.fromEntries([...members].map(([k, v]) => [k, JSON.parse(v) as unknown]))).toEqual(
          JSON.parse(JSON.stringify(object)),
        )
      }),
    )
  })
})
