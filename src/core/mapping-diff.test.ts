import { describe, expect, it } from 'vitest'
import { describeMappingChange, diffMapping, isMappingChangeRisky } from './mapping-diff.js'
import { parseMigration } from './parse-config.js'

const base = {
  name: 'orders_v2',
  legacy: { table: 'public.orders', key: ['id'] },
  shadow: { table: 'public.orders_v2', key: ['id'] },
  forward: { customer: 'customer_id::uuid' },
  backward: { customer_id: 'customer::text' },
}

describe('diffMapping', () => {
  it('finds nothing between a definition and itself, and a compare-only change is no mapping change', () => {
    expect(diffMapping(parseMigration(base), parseMigration(base))).toEqual([])
    expect(diffMapping(parseMigration(base), parseMigration({ ...base, compare: { status: 'trim' } }))).toEqual([])
  })

  it('lists tables and keys first, then forward and backward entries by column, with the same-name default as null', () => {
    const after = parseMigration({
      ...base,
      shadow: { table: 'public.orders_v3', key: ['id'] },
      forward: { status: 'upper(status)' },
    })
    const changes = diffMapping(parseMigration(base), after)
    expect(changes).toEqual([
      { field: 'shadow.table', before: 'public.orders_v2', after: 'public.orders_v3' },
      { field: 'forward.customer', before: 'customer_id::uuid', after: null },
      { field: 'forward.status', before: null, after: 'upper(status)' },
    ])
    expect(changes.map(describeMappingChange)).toEqual([
      'shadow.table: "public.orders_v2" -> "public.orders_v3"',
      'forward.customer: "customer_id::uuid" -> "customer" (same name)',
      'forward.status: "status" (same name) -> "upper(status)"',
    ])
  })

  it('a change is risky from dual_write on, never in off', () => {
    const changes = diffMapping(parseMigration(base), parseMigration({ ...base, forward: {} }))
    expect(isMappingChangeRisky('off', changes)).toBe(false)
    for (const phase of ['dual_write', 'shadow_read', 'ramp', 'shadow_primary', 'complete'] as const)
      expect(isMappingChangeRisky(phase, changes)).toBe(true)
    expect(isMappingChangeRisky('ramp', [])).toBe(false)
  })
})
