import { describe, expect, it } from 'vitest'
import { GateRefused, TransitionInvalid } from './errors.js'
import {
  checkRetireGate,
  planForeignKeyMove,
  plainColumnOf,
  retiredTableName,
  type ForeignKeyFacts,
  type MoveContext,
} from './retire-plan.js'

const fk: ForeignKeyFacts = {
  name: 'lines_order_fkey',
  table: { schema: 'public', name: 'lines' },
  tableOid: 10,
  columns: ['order_id'],
  referencedColumns: ['id'],
  onUpdate: 'a',
  onDelete: 'c',
  match: 's',
  deferrable: false,
  deferred: false,
  validated: true,
}
const ctx: MoveContext = {
  migration: 'orders_v2',
  shadow: { schema: 'public', name: 'orders_v2' },
  backward: [
    { column: 'id', expression: '"id"' },
    { column: 'code', expression: 'upper(code)' },
    { column: 'ref', expression: 'Reference' },
  ],
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
    expect(planForeignKeyMove(fk, { ...ctx, shadowForeignKeys: [existing] })).toMatchObject({
      kind: 'drop',
      equivalent: 'lines_order_v2_fkey',
    })
    expect(planForeignKeyMove(fk, { ...ctx, shadowForeignKeys: [{ ...existing, tableOid: 11 }] })).toMatchObject({
      kind: 'move',
    })
  })

  it('takes a key on the same columns for an equivalent one only when it acts the same; otherwise refuses, naming each difference', () => {
    const other = {
      ...fk,
      name: 'lines_order_v2_fkey',
      onDelete: 'a',
      onUpdate: 'c',
      match: 'f',
      deferrable: true,
      deferred: true,
    }
    expect(planForeignKeyMove(fk, { ...ctx, shadowForeignKeys: [other] })).toEqual({
      kind: 'refuse',
      fk,
      reason:
        'public.lines.lines_order_v2_fkey already references public.orders_v2 (id) from the same columns but with ' +
        'ON UPDATE CASCADE where this key has ON UPDATE NO ACTION, ON DELETE NO ACTION where this key has ON DELETE CASCADE, MATCH FULL where this key has MATCH SIMPLE, ' +
        'DEFERRABLE INITIALLY DEFERRED where this key has NOT DEFERRABLE, so dropping this key for it would change what a write does; ' +
        'make that key match, or run cutover doctor orders_v2 --apply to add one that does',
    })
    // A matching one beside it is taken, whatever the order.
    const same = { ...fk, name: 'lines_order_fkey_shadow', validated: false }
    expect(planForeignKeyMove(fk, { ...ctx, shadowForeignKeys: [other, same] })).toMatchObject({
      kind: 'drop',
      equivalent: 'lines_order_fkey_shadow',
    })
  })

  it('refuses a referenced column mapped by an expression, and one with no unique key on the shadow', () => {
    expect(planForeignKeyMove({ ...fk, referencedColumns: ['code'] }, ctx)).toMatchObject({
      kind: 'refuse',
      reason: expect.stringContaining('backward maps it as upper(code)'),
    })
    expect(planForeignKeyMove({ ...fk, referencedColumns: ['ref'] }, ctx)).toMatchObject({
      kind: 'refuse',
      reason:
        'no primary key or unique index on public.orders_v2 (reference) for it to reference; add one: CREATE UNIQUE INDEX ON "public"."orders_v2" ("reference")',
    })
  })

  it('allows retire only in complete, after the soak', () => {
    const now = new Date('2026-01-02T00:00:00Z')
    expect(() =>
      checkRetireGate('m', { phase: 'shadow_primary', completeSince: undefined, soakSeconds: 0, now }),
    ).toThrow(TransitionInvalid)
    expect(() =>
      checkRetireGate('m', {
        phase: 'complete',
        completeSince: new Date('2026-01-01T12:00:00Z'),
        soakSeconds: 86_400,
        now,
      }),
    ).toThrow(GateRefused)
    expect(() =>
      checkRetireGate('m', {
        phase: 'complete',
        completeSince: new Date('2026-01-01T00:00:00Z'),
        soakSeconds: 86_400,
        now,
      }),
    ).not.toThrow()
  })
})
