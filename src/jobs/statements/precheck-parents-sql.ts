/**
 * The parent rows a group member's precheck inserts before its own: the forward mapping of exactly the legacy rows
 * of the other members that the checked rows reference through their shadows' foreign keys (and, through theirs,
 * the grandparents), as the parents-first backfill would have copied them.
 */
import { list, typeOf, type MigrationShape } from '../../shape/migration-shape.js'
import type { ShadowForeignKey } from '../../store/groups/shadow-references-sql.js'

function forwardOf(shape: MigrationShape, column: string): string | undefined {
  return shape.forward.find((m) => m.column === column)?.expression
}

/**
 * `WITH` clauses ending in a space, or '' when `child` references no member: one `INSERT … ON CONFLICT DO NOTHING`
 * per ancestor, of its legacy rows referenced by the rows of `child` that `picked` selects (a predicate on `lt`).
 * A foreign key whose columns are not all mapped by `forward` is left to fail as it would.
 */
export function parentInserts(
  child: string,
  picked: string,
  keys: readonly ShadowForeignKey[],
  shapes: ReadonlyMap<string, MigrationShape>,
): string {
  const needed = new Map<string, string[]>()
  const visit = (member: string, predicate: string): void => {
    const own = shapes.get(member)
    for (const k of keys) {
      const parent = shapes.get(k.parent)
      if (k.child !== member || own === undefined || parent === undefined) continue
      const from = k.columns.map((c) => forwardOf(own, c))
      const to = k.referenced.map((c) => forwardOf(parent, c))
      if (from.some((e) => e === undefined) || to.some((e) => e === undefined)) continue
      // Unqualified columns of each side's forward expressions resolve in its own FROM (`lt` inside the subquery).
      const referencing = `SELECT ${from.map((e, i) => `(${e as string})::${typeOf(own.shadowColumns, k.columns[i] as string)}`).join(', ')} FROM ${own.legacyTable} AS lt WHERE ${predicate}`
      const wanted = `(${to.map((e, i) => `(${e as string})::${typeOf(parent.shadowColumns, k.referenced[i] as string)}`).join(', ')}) IN (${referencing})`
      needed.set(k.parent, [...(needed.get(k.parent) ?? []), wanted])
      visit(k.parent, wanted)
    }
  }
  visit(child, picked)
  if (needed.size === 0) return ''
  const inserts = [...needed].map(([name, predicates], i) => {
    const shape = shapes.get(name) as MigrationShape
    return (
      `cutover_parent_${i} AS (INSERT INTO ${shape.shadowTable} (${list(shape.forward.map((m) => m.column))})${shape.overriding.shadow} ` +
      `SELECT ${shape.forward.map((m) => m.expression).join(', ')} FROM ${shape.legacyTable} AS lt WHERE ${predicates.map((p) => `(${p})`).join(' OR ')} ` +
      `ON CONFLICT (${list(shape.shadowConflictKey)}) DO NOTHING)`
    )
  })
  return `WITH ${inserts.join(', ')} `
}
