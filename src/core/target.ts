/** What a state change, a job or a retire names: one migration, or a group whose members move together. A migration is a group of one. */

export interface Target {
  /** The name the operator gave: a migration's, or a group's. */
  readonly name: string
  /** The migrations it moves, in name order (the order state rows are locked in): the migration itself, or the group's members. */
  readonly members: readonly string[]
  /** The group's name when `name` names a group; undefined for a migration. */
  readonly group: string | undefined
}

/** A migration as a target: a group of one, itself. */
export function migrationTarget(name: string): Target {
  return { name, members: [name], group: undefined }
}

/** A group as a target; `members` by name. */
export function groupTarget(name: string, members: readonly string[]): Target {
  return { name, members, group: name }
}

/** What the CLI prints for a target, one document per member: a migration's own document, or `{ group, members }`. */
export function targetDocument<T>(
  target: Target,
  documents: readonly T[],
): T | { group: string; members: readonly T[] } {
  return target.group === undefined ? (documents[0] as T) : { group: target.group, members: documents }
}
