import { describe, expect, it } from 'vitest'
import { parityGaps, triggerWhen } from './index.js'
import type { TableFacts } from './facts.js'

function facts(name: string, oid: number, columns: string[], extra: Partial<TableFacts> = {}): TableFacts {
  return {
    oid,
    table: { schema: 'public', name },
    columns,
    rowSecurity: false,
    forceRowSecurity: false,
    grants: [],
    policies: [],
    triggers: [],
    checks: [],
    foreignKeysOut: [],
    foreignKeysIn: [],
    uniqueIndexes: [],
    sequences: [],
    constraintNames: [],
    ...extra,
  }
}

describe('parityGaps', () => {
  const columns = new Map([
    ['id', 'id'],
    ['amount', 'total'],
  ])

  it(
    "the migration's key: the shadow's unique key on its key columns stands for legacy's, even when the key " +
      'values are computed',
    () => {
      const pk = (name: string, key: string) => ({
        name,
        isPrimary: true,
        isConstraint: true,
        keys: [key],
        predicate: null,
        isNullsNotDistinct: false,
        method: 'btree',
      })
      const legacy = facts('l', 1, ['ref', 'amount'], { uniqueIndexes: [pk('l_pkey', 'ref')] })
      const keys = { legacy: ['ref'], shadow: ['uid'] }
      // ref is carried as ref::uuid (not a plain copy): without the key pairing a person would have to write it
      const keyed = facts('s', 2, ['uid', 'total'], { uniqueIndexes: [pk('s_pkey', 'uid')] })
      expect(parityGaps({ legacy, shadow: keyed, columns, keys })).toEqual([])
      expect(parityGaps({ legacy, shadow: facts('s', 2, ['uid', 'total']), columns, keys }).map((g) => g.item)).toEqual(
        ['unique_index'],
      )
    },
  )

  it('a check over a column with no plain rename needs a person, until one exists under the same name', () => {
    const legacy = facts('l', 1, ['id', 'amount', 'cents'], {
      checks: [{ name: 'cents_ok', expression: '(cents >= 0)', isValidated: true, isNoInherit: false }],
    })
    const gaps = parityGaps({ legacy, shadow: facts('s', 2, ['id', 'total']), columns })
    expect(gaps).toEqual([
      {
        item: 'check',
        object: 'cents_ok',
        description: expect.stringContaining(
          'a person must write the check constraint for public.s (under the same name "cents_ok"',
        ),
        fixSql: null,
      },
    ])
    const written = facts('s', 2, ['id', 'total'], {
      checks: [{ name: 'cents_ok', expression: '(total >= 0)', isValidated: true, isNoInherit: false }],
    })
    expect(parityGaps({ legacy, shadow: written, columns })).toEqual([])
  })

  it('a new constraint name does not clash with one the shadow already has', () => {
    const legacy = facts('l', 1, ['id', 'amount'], {
      checks: [{ name: 'c', expression: '(amount > 0)', isValidated: false, isNoInherit: false }],
    })
    const shadow = facts('s', 2, ['id', 'total'], {
      checks: [{ name: 'c', expression: '(total < 5)', isValidated: true, isNoInherit: false }],
      constraintNames: ['c'],
    })
    expect(parityGaps({ legacy, shadow, columns })).toEqual([
      {
        item: 'check',
        object: 'c',
        description: expect.any(String),
        fixSql: 'ALTER TABLE "public"."s" ADD CONSTRAINT "c_shadow" CHECK (("total" > 0)) NOT VALID',
      },
    ])
  })

  it('a self-referencing foreign key points at the shadow itself', () => {
    const fk = {
      name: 'parent_fk',
      tableOid: 1,
      table: { schema: 'public', name: 'l' },
      columns: ['amount'],
      refTableOid: 1,
      refTable: { schema: 'public', name: 'l' },
      refColumns: ['id'],
      onUpdate: 'NO ACTION',
      onDelete: 'SET NULL',
      match: 'SIMPLE',
      isDeferrable: false,
      isInitiallyDeferred: false,
      tableConstraintNames: [],
    } as const
    const legacy = facts('l', 1, ['id', 'amount'], { foreignKeysOut: [fk] })
    const gaps = parityGaps({ legacy, shadow: facts('s', 2, ['id', 'total']), columns })
    expect(gaps.map((g) => g.fixSql)).toEqual([
      'ALTER TABLE "public"."s" ADD CONSTRAINT "parent_fk" FOREIGN KEY ("total") REFERENCES "public"."s" ("id") ' +
        'ON UPDATE NO ACTION ON DELETE SET NULL NOT VALID;\n' +
        'ALTER TABLE "public"."s" VALIDATE CONSTRAINT "parent_fk"',
    ])
    const same = {
      ...fk,
      name: 'other',
      tableOid: 2,
      table: { schema: 'public', name: 's' },
      columns: ['total'],
      refTableOid: 2,
      refTable: { schema: 'public', name: 's' },
    }
    const shadow = facts('s', 2, ['id', 'total'], { foreignKeysOut: [same] })
    expect(parityGaps({ legacy, shadow, columns })).toEqual([])
  })

  it('a unique index over a computed column needs a person, who names it <legacy name>_shadow', () => {
    const ix = {
      name: 'cents_once',
      isPrimary: false,
      isConstraint: false,
      keys: ['cents'],
      predicate: null,
      isNullsNotDistinct: false,
      method: 'btree',
    }
    const legacy = facts('l', 1, ['id', 'amount', 'cents'], { uniqueIndexes: [ix] })
    expect(parityGaps({ legacy, shadow: facts('s', 2, ['id', 'total']), columns })).toEqual([
      {
        item: 'unique_index',
        object: 'cents_once',
        description: expect.stringContaining('(named "cents_once_shadow", so this check sees it was done)'),
        fixSql: null,
      },
    ])
    const done = facts('s', 2, ['id', 'total'], {
      uniqueIndexes: [{ ...ix, name: 'cents_once_shadow', keys: ['((total * 100))'] }],
    })
    expect(parityGaps({ legacy, shadow: done, columns })).toEqual([])
  })

  it('a sequence owned by a computed column is satisfied by any shadow sequence at or past its value', () => {
    const seq = (column: string, lastValue: string | null) => ({
      column,
      sequence: { schema: 'public', name: `${column}_seq` },
      isIdentity: false,
      lastValue,
      isReadable: true,
      grants: [],
    })
    const legacy = facts('l', 1, ['id', 'amount', 'no'], { sequences: [seq('no', '40')] })
    const behind = facts('s', 2, ['id', 'total'], { sequences: [seq('total', '39')] })
    expect(parityGaps({ legacy, shadow: behind, columns })).toEqual([
      {
        item: 'sequence',
        object: 'no (public.no_seq)',
        description: expect.stringContaining('a person must decide'),
        fixSql: null,
      },
    ])
    const caughtUp = facts('s', 2, ['id', 'total'], { sequences: [seq('total', '40')] })
    expect(parityGaps({ legacy, shadow: caughtUp, columns })).toEqual([])
  })

  it("cutover's own triggers are neither asked of the shadow nor taken for the shadow's equivalent of one", () => {
    const trigger = (
      name: string,
      functionName: string,
      isCutoverOwned: boolean,
      functionSource = 'BEGIN RETURN NULL; END',
    ) =>
      ({
        name,
        timing: 'AFTER',
        events: ['INSERT'],
        updateColumns: [],
        isRow: true,
        when: null,
        functionOid: isCutoverOwned ? 7 : 8,
        functionName,
        functionSource,
        args: [],
        isEnabled: true,
        oldTable: null,
        newTable: null,
        isConstraint: false,
        isDeferrable: false,
        isInitiallyDeferred: false,
        constraintTable: null,
        isCutoverOwned,
      }) as const
    const net = trigger('renamed_net', 'cutover.bypass_net_m', true)
    const legacy = facts('l', 1, ['id', 'amount'], { triggers: [net] })
    expect(parityGaps({ legacy, shadow: facts('s', 2, ['id', 'total']), columns })).toEqual([])
    // A legacy trigger a person must rewrite is not "done" because a cutover trigger of that name is on the shadow,
    // and one cutover can copy gets a name no trigger of the shadow has.
    const audit = trigger('audit', 'public.audit', false, 'BEGIN INSERT INTO log VALUES (NEW.amount); RETURN NULL; END')
    const stamp = trigger('cutover_bypass_truncate', 'public.stamp', false)
    const shadow = facts('s', 2, ['id', 'total'], {
      triggers: [
        { ...net, name: 'audit' },
        { ...net, name: 'cutover_bypass_truncate', functionName: 'cutover.bypass_trunc_m' },
      ],
    })
    const gaps = parityGaps({
      legacy: facts('l', 1, ['id', 'amount'], { triggers: [net, audit, stamp] }),
      shadow,
      columns,
    })
    expect(gaps.map((g) => [g.object, g.fixSql])).toEqual([
      ['audit', null],
      [
        'cutover_bypass_truncate',
        'CREATE TRIGGER "cutover_bypass_truncate_shadow" AFTER INSERT ON "public"."s" FOR EACH ROW EXECUTE FUNCTION public.stamp()',
      ],
    ])
  })

  it('grants to PUBLIC and with grant option', () => {
    const legacy = facts('l', 1, ['id'], {
      grants: [
        { grantee: null, privilege: 'SELECT', isGrantable: false, column: null },
        { grantee: 'ops', privilege: 'UPDATE', isGrantable: true, column: null },
      ],
    })
    const shadow = facts('s', 2, ['id'], {
      grants: [{ grantee: 'ops', privilege: 'UPDATE', isGrantable: false, column: null }],
    })
    expect(parityGaps({ legacy, shadow, columns }).map((g) => g.fixSql)).toEqual([
      'GRANT SELECT ON TABLE "public"."s" TO PUBLIC',
      'GRANT UPDATE ON TABLE "public"."s" TO "ops" WITH GRANT OPTION',
    ])
  })
})

describe('triggerWhen', () => {
  it('finds the WHEN condition, even with a hostile table name before it', () => {
    const hostile =
      'CREATE TRIGGER t BEFORE UPDATE ON public."x WHEN (1" FOR EACH ROW WHEN ((new.a > 0)) ' +
      "EXECUTE FUNCTION f('WHEN (')"
    expect(triggerWhen(hostile)).toBe('(new.a > 0)')
    expect(triggerWhen('CREATE TRIGGER t BEFORE UPDATE ON public.x FOR EACH ROW EXECUTE FUNCTION f()')).toBeNull()
  })
})
