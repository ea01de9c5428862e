import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import stableStringify from 'fast-json-stable-stringify'
import { canonicalJson, canonicalValue } from './canonical.js'
import { differingColumns, rowHash } from './row-hash.js'

type Row = Record<string, unknown>

const columnName = fc.string({ minLength: 1, maxLength: 12 })
const columnValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.bigInt(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.date(),
  fc.uint8Array({ maxLength: 16 }),
  fc.array(fc.integer(), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
)
const row = fc.dictionary(columnName, columnValue, { minKeys: 1, maxKeys: 8 })
const noNul = (s: string): boolean => !s.includes('\0')

function canonicalText(v: unknown): string {
  return stableStringify(canonicalValue(v))
}

/** The same data with the keys of every object, at every depth, in a random order. */
function shuffleKeys(value: unknown, pick: (max: number) => number): unknown {
  if (Array.isArray(value)) return value.map((element: unknown) => shuffleKeys(element, pick))
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array) return value
  const entries = Object.entries(value)
  for (let i = entries.length - 1; i > 0; i--) {
    const j = pick(i)
    ;[entries[i], entries[j]] = [entries[j]!, entries[i]!]
  }
  const out = Object.create(null) as Row
  for (const [key, v] of entries) out[key] = shuffleKeys(v, pick)
  return out
}

describe('rowHash', () => {
  it('returns 32 lowercase hex characters', () => {
    expect(rowHash({ id: 1, title: 'a' })).toMatch(/^[0-9a-f]{32}$/)
  })

  it('hashes only the listed columns, in any order', () => {
    const a = { id: 1, title: 'a', noise: 'x' }
    const b = { title: 'a', id: '1', noise: 'y' }
    expect(rowHash(a, ['id', 'title'])).toBe(rowHash(b, ['title', 'id']))
    expect(rowHash(a)).not.toBe(rowHash(b))
  })

  it('hashes a listed column that the row lacks as null', () => {
    expect(rowHash({ id: 1 }, ['id', 'gone'])).toBe(rowHash({ id: 1, gone: null }))
  })

  it('reads only own properties, so a column named constructor is null when absent', () => {
    expect(rowHash({}, ['constructor'])).toBe(rowHash({ constructor: null }, ['constructor']))
  })

  it('hashes equal rows in any key order equally', () => {
    fc.assert(
      fc.property(row, fc.gen(), (r, g) => {
        const shuffled = shuffleKeys(r, (max) => g(fc.nat, { max })) as Row
        expect(rowHash(shuffled)).toBe(rowHash(r))
      }),
    )
  })

  it('hashes any JSON nesting equally with its keys shuffled at every depth', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.gen(), (doc, g) => {
        const shuffled = shuffleKeys(doc, (max) => g(fc.nat, { max }))
        expect(rowHash({ doc: shuffled })).toBe(rowHash({ doc }))
      }),
    )
  })

  it('round-trips arbitrary Unicode strings and tells different ones apart', () => {
    for (const unit of ['grapheme', 'binary'] as const) {
      const text = fc.string({ unit, maxLength: 40 }).filter(noNul)
      fc.assert(
        fc.property(text, text, (s, t) => {
          expect((JSON.parse(canonicalJson({ s })) as { s: string }).s).toBe(s)
          expect(rowHash({ s }) === rowHash({ s: t })).toBe(s === t)
        }),
      )
    }
  })

  it('hashes large bigints like their decimal strings and tells different ones apart', () => {
    const big = fc.bigInt({ min: -(2n ** 256n), max: 2n ** 256n })
    fc.assert(
      fc.property(big, big, (a, b) => {
        expect(rowHash({ v: a })).toBe(rowHash({ v: a.toString() }))
        expect(rowHash({ v: a }) === rowHash({ v: b })).toBe(a === b)
      }),
    )
  })

  it('hashes the earliest and latest representable dates as their ISO strings', () => {
    const latest = new Date(8.64e15)
    const earliest = new Date(-8.64e15)
    expect(canonicalValue(latest)).toBe('+275760-09-13T00:00:00.000Z')
    expect(canonicalValue(earliest)).toBe('-271821-04-20T00:00:00.000Z')
    expect(rowHash({ at: latest })).toBe(rowHash({ at: '+275760-09-13T00:00:00.000Z' }))
    expect(rowHash({ at: latest })).not.toBe(rowHash({ at: earliest }))
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), fc.date({ noInvalidDate: true }), (a, b) => {
        expect(rowHash({ at: a }) === rowHash({ at: b })).toBe(a.getTime() === b.getTime())
      }),
    )
  })

  it('changes when any single column gets a value with a different canonical form', () => {
    fc.assert(
      fc.property(row, fc.nat(), columnValue, (r, index, replacement) => {
        const names = Object.keys(r)
        const name = names[index % names.length]!
        fc.pre(canonicalText(r[name]) !== canonicalText(replacement))
        const changed = { ...r, [name]: replacement }
        expect(rowHash(changed, names)).not.toBe(rowHash(r, names))
        expect(differingColumns(r, changed, names)).toEqual([name])
      }),
    )
  })
})

describe('differingColumns', () => {
  it('lists the columns whose canonical values differ, in column order', () => {
    const a = { id: 1, title: 'a', body: 'x', at: new Date(0) }
    const b = { id: '1', title: 'b', body: 'x', at: '1970-01-01T00:00:00.000Z' }
    expect(differingColumns(a, b)).toEqual(['title'])
  })

  it('ignores JSON key order but not JSON types', () => {
    expect(differingColumns({ doc: { a: 1, b: 2 } }, { doc: { b: 2, a: 1 } })).toEqual([])
    expect(differingColumns({ doc: { a: 1 } }, { doc: { a: '1' } })).toEqual(['doc'])
  })

  it('counts a column present on one side only as null on the other', () => {
    expect(differingColumns({ id: 1, extra: null }, { id: 1 })).toEqual([])
    expect(differingColumns({ id: 1 }, { id: 1, extra: 'x' })).toEqual(['extra'])
  })

  it('compares only the given columns when they are listed', () => {
    expect(differingColumns({ id: 1, t: 'a' }, { id: 2, t: 'b' }, ['t'])).toEqual(['t'])
  })
})
