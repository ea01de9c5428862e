import { describe, expect, it } from 'vitest'
import { plainColumnMap } from './mapping.js'

describe('plainColumnMap', () => {
  it('maps bare and quoted column references, and nothing computed', () => {
    const map = plainColumnMap(
      [
        { column: 'id', expression: '"id"' },
        { column: 'total', expression: 'amount' },
        { column: 'customer', expression: 'customer_id::uuid' },
        { column: 'Odd', expression: '"We""ird"' },
      ],
      ['id', 'amount', 'customer_id', 'We"ird'],
    )
    expect([...map]).toEqual([
      ['id', 'id'],
      ['amount', 'total'],
      ['We"ird', 'Odd'],
    ])
  })
})
