/** Orders a group's members so each comes after every member its shadow references (parents before children). */
import { ConfigInvalid } from './errors.js'

/** `references`: member → the members it references. Ties keep the given order. Throws on a cycle, naming it. */
export function parentsFirst(group: string, references: ReadonlyMap<string, readonly string[]>): string[] {
  const ordered: string[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (member: string, path: readonly string[]): void => {
    if (state.get(member) === 'done') return
    if (state.get(member) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(member)), member].join(' -> ')
      throw new ConfigInvalid(
        undefined,
        `the shadows of group "${group}" reference each other in a cycle (${cycle}), so no member can be copied before the others; make one of those foreign keys DEFERRABLE INITIALLY DEFERRED or add it after the backfill`,
      )
    }
    state.set(member, 'visiting')
    for (const parent of references.get(member) ?? []) visit(parent, [...path, member])
    state.set(member, 'done')
    ordered.push(member)
  }
  for (const member of references.keys()) visit(member, [])
  return ordered
}
