import { describe, expect, it } from 'vitest'
import { missingGrant } from './missing-grant.js'
import { deniedObject, isCompileError } from './pg-errors.js'

const denied = (message: string) => Object.assign(new Error(message), { code: '42501' })

describe('permission errors', () => {
  it('are read from SQLSTATE 42501 with the object the server names, and are never taken for a compile error', () => {
    expect(deniedObject(denied('permission denied for table state'))).toEqual({ kind: 'table', name: 'state' })
    expect(deniedObject(denied('permission denied for schema cutover'))).toEqual({ kind: 'schema', name: 'cutover' })
    expect(
      deniedObject(Object.assign(new Error('permission denied for table state'), { code: '42P01' })),
    ).toBeUndefined()
    expect(isCompileError(denied('permission denied for table orders'))).toBe(false)
  })

  it("name the grant sql/grants/operator.sql gives for a control table, a schema, or one of the migration's tables", () => {
    expect(missingGrant({ kind: 'table', name: 'state' }, 'cutover', '"ro"').grant).toBe(
      'GRANT SELECT, INSERT, UPDATE ON "cutover"."state" TO "ro" (as in sql/grants/operator.sql)',
    )
    expect(missingGrant({ kind: 'table', name: 'events' }, 'ops', '"ro"').grant).toBe(
      'GRANT SELECT, INSERT ON "ops"."events" TO "ro" (as in sql/grants/operator.sql)',
    )
    expect(missingGrant({ kind: 'schema', name: 'cutover' }, 'cutover', '"ro"').grant).toBe(
      'GRANT USAGE ON SCHEMA "cutover" TO "ro" (as in sql/grants/operator.sql)',
    )
    const tables = {
      owned: [
        { schema: 'app', name: 'orders' },
        { schema: 'app', name: 'orders_v2' },
      ],
    }
    expect(missingGrant({ kind: 'table', name: 'orders' }, 'cutover', '"ro"', tables)).toEqual({
      object: 'table app.orders',
      grant: 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "app"."orders" TO "ro" (as in sql/grants/operator.sql)',
    })
  })

  it("offer SELECT only on a table that is none of the migration's, which a mapping reads: never a write privilege", () => {
    const owned = [
      { schema: 'app', name: 'orders' },
      { schema: 'app', name: 'orders_v2' },
    ]
    expect(
      missingGrant({ kind: 'table', name: 'price_list' }, 'cutover', '"ro"', {
        owned,
        denied: { schema: 'pricing', name: 'price_list' },
      }),
    ).toEqual({
      object: 'table pricing.price_list',
      grant:
        'GRANT SELECT ON TABLE "pricing"."price_list" TO "ro" (SELECT only: a mapping reads it, and it is not one of the migration\'s tables)',
    })
    // A table of the same name as the legacy one, in another schema, is not the legacy table.
    expect(
      missingGrant({ kind: 'table', name: 'orders' }, 'cutover', '"ro"', {
        owned,
        denied: { schema: 'archive', name: 'orders' },
      }).grant,
    ).toBe(
      'GRANT SELECT ON TABLE "archive"."orders" TO "ro" (SELECT only: a mapping reads it, and it is not one of the migration\'s tables)',
    )
    // Not knowing the migration's tables, the hint writes SELECT and says when more applies.
    expect(missingGrant({ kind: 'table', name: 'orders' }, 'cutover', '"ro"').grant).toBe(
      'GRANT SELECT ON TABLE <schema>."orders" TO "ro" (SELECT only, unless it is the migration\'s legacy or shadow table: then SELECT, INSERT, UPDATE, DELETE (as in sql/grants/operator.sql))',
    )
  })
})
