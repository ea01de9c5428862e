import { describe, expect, it } from 'vitest'
import { GateRefused, TransitionInvalid } from './errors.js'
import { checkRetireGate, planForeignKeyMove, plainColumnOf, retiredTableName, type ForeignKeyFacts, type MoveContext } from './retire-plan.js'

const fk: ForeignKeyFacts = {
  name: 'lines_order_fkey', table: { schema: 'public', name: 'lines' }, tableOid: 10, columns: ['order_id'], referencedColumns: ['id'],
  onUpdate: 'a', onDelete: 'c', match: 's', deferrable: false, deferred: false, validated: true,
}
const ctx: MoveContext = {
  shadow: { schema: 'public', name: 'orders_v2' },
  backward: [{ column: 'id', expression: '"id"' }, { column: 'code', expression: 'upper(code)' }, { column: 'ref', expression: 'Reference' }],
  shadowColumns: new Set(['id', 'code', 'reference']),
  shadowUniqueKeys: [['id']],
  shadowForeignKeys: [],
}

describe('retire plan', () => {
  it('recognises a plain column reference, quoted or not, and nothing else', () => {
    expect(plainColumnOf('"Id"')).toBe('Id')
    expect(plainColumnOf(' Reference ')).toBe('reference')
    expect(plainColumnOf('"a""b"')).toBe('a"b')
    expect(plainColumnOf('customer::text')).toBeUndefined()
    expect(plainColumnOf('current_user')).toBeUndefined()
    expect(plainColumnOf('NULL')).toBeUndefined()
  })

  it('names the retired table <name>_retired within 63 bytes', () => {
    expect(retiredTableName('orders')).toBe('orders_retired')
    expect(retiredTableName('x'.repeat(63))).toBe(`${'x'.repeat(55)}_retired`)
  })

  it('moves a key whose referenced columns map plainly onto a unique key of the shadow', () => {
    expect(planForeignKeyMove(fk, ctx)).toEqual({ kind: 'move', fk, shadowColumns: ['id'] })
  })

  it('only drops the legacy key when an equivalent one to the shadow exists', () => {
    const existing = { ...fk, name: 'lines_order_v2_fkey' }
    expect(planForeignKeyMove(fk, { ...ctx, shadowForeignKeys: [existing] })).toMatchObject({ kind: 'drop', equivalent: 'lines_order_v2_fkey' })
    expect(planForeignKeyMove(fk, { ...ctx, shadowForeignKeys: [{ ...existing, tableOid: 11 }] })).toMatchObject({ kind: 'move' })
  })

  it('refuses a referenced column mapped by an expression, and one with no unique key on the shadow', () => {
    expect(planForeignKeyMove({ ...fk, referencedColumns: ['code'] }, ctx)).toMatchObject({ kind: 'refuse', reason: expect.stringContaining('backward maps it as upper(code)') })
    expect(planForeignKeyMove({ ...fk, referencedColumns: ['ref'] }, ctx)).toMatchObject({
      kind: 'refuse', reason: 'no primary key or unique index on public.orders_v2 (reference) for it to reference; add one: CREATE UNIQUE INDEX ON "public"."orders_v2" ("reference")',
    })
  })

  it('allows retire only in complete, after the soak', () => {
    const now = new Date('2026-01-02T00:00:00Z')
    expect(() => checkRetireGate('m', { phase: 'shadow_primary', completeSince: undefined, soakSeconds: 0, now })).toThrow(TransitionInvalid)
    expect(() => checkRetireGate('m', { phase: 'complete', completeSince: new Date('2026-01-01T12:00:00Z'), soakSeconds: 86_400, now })).toThrow(GateRefused)
    expect(() => checkRetireGate('m', { phase: 'complete', completeSince: new Date('2026-01-01T00:00:00Z'), soakSeconds: 86_400, now })).not.toThrow()
  })
})
