/**
 * The DAL an application holds across definition changes: every property and
 * method is forwarded to the MigrationDal of the definition loaded now, so a
 * re-registered mapping takes effect without the application doing anything,
 * and each MigrationDal keeps the statements it built once from its shape.
 */
import type { MigrationDal } from './migration-dal.js'

/** Where the current MigrationDal of one migration is kept; replaced in place on a reload. */
export interface CurrentDal {
  dal: MigrationDal
}

export function followingDal(current: CurrentDal): MigrationDal {
  // Methods bound once per MigrationDal, not per call.
  const bound = new WeakMap<MigrationDal, Map<PropertyKey, unknown>>()
  return new Proxy(current.dal, {
    get(_first, property) {
      const dal = current.dal
      const value: unknown = Reflect.get(dal, property, dal)
      if (typeof value !== 'function') return value
      let methods = bound.get(dal)
      if (!methods) {
        methods = new Map()
        bound.set(dal, methods)
      }
      let method = methods.get(property)
      if (!method) {
        method = (value as (...args: unknown[]) => unknown).bind(dal)
        methods.set(property, method)
      }
      return method
    },
  })
}
