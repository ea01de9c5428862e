import { describe, expect, it } from 'vitest'
import { expressionKey, translateExpression } from './sql-tokens.js'

const options = (
  columns: Record<string, string>,
  known: string[],
  extra: { qualifiers?: string[]; tableName?: string } = {},
) => ({
  columns: new Map(Object.entries(columns)),
  knownColumns: new Set(known),
  ...extra,
})

describe('translateExpression', () => {
  it('renames column references and keeps the rest of the text', () => {
    expect(
      translateExpression(
        "((amount >= 0) AND (note <> 'amount'::text))",
        options({ amount: 'total', note: 'note' }, ['amount', 'note']),
      ),
    ).toMatchObject({ sql: '(("total" >= 0) AND ("note" <> \'amount\'::text))' })
  })

  it('leaves functions, casts to a type named like a column, and keywords alone', () => {
    expect(
      translateExpression(
        'lower(text) = text::text AND CURRENT_USER IS NOT NULL',
        options({ text: 'body', lower: 'x' }, ['text', 'lower']),
      ),
    ).toMatchObject({ sql: 'lower("body") = "body"::text AND CURRENT_USER IS NOT NULL' })
  })

  it('tells unreserved keywords from columns of the same name by the words around them', () => {
    expect(
      translateExpression(
        '(("at" AT TIME ZONE zone) > first) AND x IS NOT UNKNOWN',
        options({ at: 'at2', zone: 'zone2', first: 'first2', x: 'x' }, ['at', 'zone', 'first', 'x']),
      ),
    ).toMatchObject({ sql: '(("at2" AT TIME ZONE "zone2") > "first2") AND "x" IS NOT UNKNOWN' })
  })

  it('renames new.x / old.x only when asked (a trigger WHEN clause)', () => {
    expect(
      translateExpression(
        '(new.amount > old.amount)',
        options({ amount: 'total' }, ['amount'], { qualifiers: ['new', 'old'] }),
      ),
    ).toMatchObject({ sql: '(new."total" > old."total")' })
    expect(
      translateExpression(
        '(other.amount > 0)',
        options({ amount: 'total' }, ['amount'], { qualifiers: ['new', 'old'] }),
      ),
    ).toMatchObject({ sql: '(other.amount > 0)' })
  })

  it('names the first column without a plain rename', () => {
    expect(
      translateExpression(
        '(customer_id IS NOT NULL) AND amount > 0',
        options({ amount: 'total' }, ['amount', 'customer_id']),
      ),
    ).toEqual({ untranslatable: 'customer_id' })
  })

  it('refuses text that qualifies columns with the table itself (a correlated subquery)', () => {
    expect(
      translateExpression(
        'EXISTS (SELECT 1 FROM t WHERE t.a = orders.id)',
        options({ id: 'id' }, ['id'], { tableName: 'orders' }),
      ),
    ).toEqual({ untranslatable: 'orders.*' })
  })

  it('quotes hostile target names, and reads quoted source names exactly', () => {
    expect(
      translateExpression('("We""ird" > 0)', options({ 'We"ird': 'x"); DROP TABLE t; --' }, ['We"ird'])),
    ).toMatchObject({ sql: '("x""); DROP TABLE t; --" > 0)' })
  })
})

describe('expressionKey', () => {
  it('is equal for the same expression whatever the identifier quoting', () => {
    const renamed = translateExpression('(amount < 100)', options({ amount: 'total' }, ['amount']))
    expect(renamed).toMatchObject({ key: expressionKey('(total < 100)') })
    expect(expressionKey('(total < 100)')).not.toBe(expressionKey('(total <= 100)'))
    expect(expressionKey('("Total" < 100)')).not.toBe(expressionKey('(total < 100)'))
  })
})
