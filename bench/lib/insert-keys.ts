/** Keys for inserted rows, shared by every insert measurement so no key is ever used twice in one run. */
import { INSERT_KEY_START } from './setup.js'

let next = INSERT_KEY_START

/** A key no insert of this run has used yet. */
export function nextInsertKey(): number {
  return next++
}
