import { describe, expect, it } from 'vitest'
import { missingGrant } from './missing-grant.js'
import { deniedObject, isCompileError } from './pg-errors.js'

const denied = (message: string) => Object.assign(new Error(message), { code: '42501' })

describe('permission errors', () => {
  it('are read from SQLSTATE 42501 with the object the server names, and are never taken for a compile error', () => {
    expect(deniedObject(denied('permission denied for table state'))).toEqual({ kind: 'table', name: 'state' })
    expect(deniedObject(denied('permission denied for schema cutover'))).toEqual({ kind: 'schema', name: 'cutover' })
    expect(deniedObject(Object.assign(new Error('permission denied for table state'), { code: '42P01' }))).toBeUndefined()
    expect(isCompileError(denied('permission denied for table orders'))).toBe(false)
  })

  it('name the grant sql/grants/operator.sql gives for a control table, a schema, or one of the migration\'s tables', () => {
    expect(missingGrant({ kind: 'table', name: 'state' }, 'cutover', '"ro"').grant).toBe('GRANT SELECT, INSERT, UPDATE ON "cutover"."state" TO "ro" (as in sql/grants/operator.sql)')
    expect(missingGrant({ kind: 'table', name: 'events' }, 'ops', '"ro"').grant).toBe('GRANT SELECT, INSERT ON "ops"."events" TO "ro" (as in sql/grants/operator.sql)')
    expect(missingGrant({ kind: 'schema', name: 'cutover' }, 'cutover', '"ro"').grant).toBe('GRANT USAGE ON SCHEMA "cutover" TO "ro" (as in sql/grants/operator.sql)')
    expect(missingGrant({ kind: 'table', name: 'orders' }, 'cutover', '"ro"')).toEqual({
      object: 'table orders', grant: 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE <schema>."orders" TO "ro" (as in sql/grants/operator.sql)',
    })
  })
})
