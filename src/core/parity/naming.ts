/** How parity names things in SQL and in its messages: roles, new object names, and work left to a person. */
import { displayName, quoteIdent, type QualifiedName } from '../identifiers.js'

export const roleSql = (role: string | null): string => (role === null ? 'PUBLIC' : quoteIdent(role))
export const roleName = (role: string | null): string => (role === null ? 'PUBLIC' : role)

/** A name not in `taken`, at most 63 bytes. */
export function freeName(name: string, taken: Iterable<string>): string {
  const used = new Set(taken)
  const fit = (base: string, suffix: string) => {
    let b = base
    while (Buffer.byteLength(b + suffix) > 63) b = b.slice(0, -1)
    return b + suffix
  }
  let candidate = fit(name, '')
  for (let i = 1; used.has(candidate); i++) candidate = fit(name, i === 1 ? '_shadow' : `_shadow${i}`)
  return candidate
}

/** Why a person must write an object: it uses a legacy column the mapping does not copy as a plain column. */
export function byPerson(column: string, shadow: QualifiedName, kind: string, name: string): string {
  return (
    `it uses legacy column "${column}", which the mapping does not copy as a plain column, ` +
    `so a person must write the ${kind} for ${displayName(shadow)} ` +
    `(under the same name "${name}", so this check sees it was done)`
  )
}

/** Whether two lists hold the same strings, in any order. */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\u0001') === [...b].sort().join('\u0001')
}
