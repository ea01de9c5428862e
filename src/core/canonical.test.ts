import { describe, it, expect } from 'vitest'
import { canonicalJson, canonicalValue } from './canonical.js'

describe('canonicalValue', () => {
  it('maps null and undefined to null', () => {
    expect(canonicalValue(null)).toBeNull()
    expect(canonicalValue(undefined)).toBeNull()
  })

  it('maps a bigint to its decimal string', () => {
    expect(canonicalValue(9007199254740993n)).toBe('9007199254740993')
    expect(canonicalValue(-12n)).toBe('-12')
  })

  it('maps a number to its decimal string, with -0 as 0 and named non-finite values', () => {
    expect(canonicalValue(5)).toBe('5')
    expect(canonicalValue(1.5)).toBe('1.5')
    expect(canonicalValue(-0)).toBe('0')
    expect(canonicalValue(NaN)).toBe('NaN')
    expect(canonicalValue(Infinity)).toBe('Infinity')
    expect(canonicalValue(-Infinity)).toBe('-Infinity')
  })

  it('leaves strings and booleans unchanged', () => {
    expect(canonicalValue('  Héllo ')).toBe('  Héllo ')
    expect(canonicalValue(true)).toBe(true)
    expect(canonicalValue(false)).toBe(false)
  })

  it('maps a date to its ISO string and an invalid date to Invalid Date', () => {
    expect(canonicalValue(new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 7)))).toBe('2024-02-29T12:00:00.007Z')
    expect(canonicalValue(new Date(NaN))).toBe('Invalid Date')
  })

  it('maps a Buffer or Uint8Array to \\x and lowercase hex, respecting a view offset', () => {
    expect(canonicalValue(Buffer.from([0x00, 0xff, 0x10]))).toBe('\\x00ff10')
    expect(canonicalValue(new Uint8Array([0xab, 0xcd]))).toBe('\\xabcd')
    expect(canonicalValue(new Uint8Array([1, 2, 3, 4]).subarray(1, 3))).toBe('\\x0203')
    expect(canonicalValue(Buffer.alloc(0))).toBe('\\x')
  })

  it('canonicalises a Postgres array column element by element', () => {
    expect(canonicalValue([1, '1', 2n, null, new Date(0)])).toEqual(['1', '1', '2', null, '1970-01-01T00:00:00.000Z'])
    expect(
      canonicalValue([
        [1, 2],
        [3, -0],
      ]),
    ).toEqual([
      ['1', '2'],
      ['3', '0'],
    ])
  })

  it('keeps JSON types inside a plain object, turning only -0 into 0', () => {
    expect(canonicalValue({ a: 5, b: '5', c: [1, '1', -0], d: { e: null, f: true } })).toEqual({
      a: 5,
      b: '5',
      c: [1, '1', 0],
      d: { e: null, f: true },
    })
  })
})

describe('canonicalJson', () => {
  it('writes sorted keys and canonical column values', () => {
    expect(canonicalJson({ b: 2, a: null, c: { z: 1, y: [2, { x: 'q' }] } })).toBe(
      '{"a":null,"b":"2","c":{"y":[2,{"x":"q"}],"z":1}}',
    )
  })

  it('treats an int8 read as the string 5 and an int4 read as the number 5 as equal', () => {
    expect(canonicalJson({ id: '5' })).toBe(canonicalJson({ id: 5 }))
    expect(canonicalJson({ id: 5n })).toBe(canonicalJson({ id: 5 }))
  })

  it('treats an int8[] and an int4[] holding the same numbers as equal', () => {
    expect(canonicalJson({ ids: ['1', '2'] })).toBe(canonicalJson({ ids: [1, 2] }))
  })

  it('keeps a jsonb string 5 and a jsonb number 5 different', () => {
    expect(canonicalJson({ doc: { a: '5' } })).not.toBe(canonicalJson({ doc: { a: 5 } }))
    expect(canonicalJson({ doc: { a: ['5'] } })).not.toBe(canonicalJson({ doc: { a: [5] } }))
  })

  it('reads a bare top-level jsonb array like a Postgres array, so [5] and ["5"] compare equal', () => {
    expect(canonicalJson({ doc: [5] })).toBe(canonicalJson({ doc: ['5'] }))
  })

  it('ignores column order and JSON key order at every depth', () => {
    const a = { id: 1, doc: { a: 1, b: { c: 2, d: [{ e: 3, f: 4 }] } } }
    const b = { doc: { b: { d: [{ f: 4, e: 3 }], c: 2 }, a: 1 }, id: 1 }
    expect(canonicalJson(a)).toBe(canonicalJson(b))
  })

  it('keeps a JSON key named __proto__ as an ordinary key', () => {
    const doc = JSON.parse('{"__proto__":{"x":1},"a":1}') as unknown
    expect(canonicalJson({ doc })).toBe('{"doc":{"__proto__":{"x":1},"a":1}}')
    expect(canonicalJson({ doc })).not.toBe(canonicalJson({ doc: { a: 1 } }))
  })

  it('treats an undefined column and a null column as equal', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1, b: null }))
  })
})
