import { describe, expect, it } from 'vitest'
import { parentsFirst } from './parents-first.js'

describe('parentsFirst', () => {
  it('puts each member after the members it references', () => {
    const refs = new Map([
      ['assets', ['flows']],
      ['flows', ['sessions']],
      ['sessions', []],
    ])
    expect(parentsFirst('studio', refs)).toEqual(['sessions', 'flows', 'assets'])
  })

  it('keeps members without references in the given order', () => {
    expect(
      parentsFirst(
        'g',
        new Map([
          ['b', []],
          ['a', []],
        ]),
      ),
    ).toEqual(['b', 'a'])
  })

  it('refuses a cycle, naming it', () => {
    expect(() =>
      parentsFirst(
        'g',
        new Map([
          ['a', ['b']],
          ['b', ['a']],
        ]),
      ),
    ).toThrow('reference each other in a cycle (a -> b -> a)')
  })
})
