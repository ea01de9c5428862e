import { describe, expect, it } from 'vitest'
import { normaliserCandidates } from './normaliser-candidates.js'
import { isNormaliser } from './normalisers.js'

describe('normaliserCandidates', () => {
  it('offers only normalisers of the closed set, least lossy first', () => {
    expect(normaliserCandidates('timestamp(3) with time zone')).toEqual(['timestamp_ms', 'timestamp_s'])
    expect(normaliserCandidates('character varying(40)')).toEqual(['trim', 'lower'])
    const numeric = normaliserCandidates('numeric(12,2)')
    expect(numeric[0]).toBe('numeric:15')
    expect(numeric.at(-1)).toBe('numeric:0')
    for (const type of ['timestamp without time zone', 'text', 'double precision']) {
      for (const spec of normaliserCandidates(type)) expect(isNormaliser(spec)).toBe(true)
    }
  })

  it('offers nothing for JSON, uuid or boolean columns', () => {
    expect(normaliserCandidates('jsonb')).toEqual([])
    expect(normaliserCandidates('uuid')).toEqual([])
    expect(normaliserCandidates('boolean')).toEqual([])
  })
})
