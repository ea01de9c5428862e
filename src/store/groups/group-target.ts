/** Whether a state change names a group or a migration, and the refusal of a group's member moved on its own. */
import { GroupMemberMovedAlone } from '../../core/errors.js'
import type { Queryable } from '../../db/queryable.js'
import { readGroupMembers, readGroupOf } from './group-members-sql.js'

/** The members of the group named `name`, or undefined when `name` is no group (a migration, then). */
export async function groupMembers(db: Queryable, schema: string, name: string): Promise<readonly string[] | undefined> {
  const members = await readGroupMembers(db, schema, name)
  return members.length > 0 ? members : undefined
}

/**
 * Refuses `action` on a migration that belongs to a group, naming the group
 * and the same command on it (`command` is the CLI words after the name).
 */
export async function refuseMemberAlone(db: Queryable, schema: string, migration: string, action: string, command: string): Promise<void> {
  const group = await readGroupOf(db, schema, migration)
  if (group !== undefined) throw new GroupMemberMovedAlone(migration, group, action, `cutover ${action} ${group}${command}`)
}
