/** What a name given to a command is (a migration, or a group and its members): the one place that reads it; and the refusal of a group's member moved on its own. */
import { GroupMemberMovedAlone } from '../../core/errors.js'
import { groupTarget, migrationTarget, type Target } from '../../core/target.js'
import type { Queryable } from '../../db/queryable.js'
import { readState } from '../state/state-row.js'
import { readGroupMembers, readGroupOf } from './group-members-sql.js'

/** The target `name` names: the group of that name with its members, else the migration of that name (a group of one). */
export async function readTarget(db: Queryable, schema: string, name: string): Promise<Target> {
  const members = await readGroupMembers(db, schema, name)
  return members.length > 0 ? groupTarget(name, members) : migrationTarget(name)
}

/** As readTarget; a name that is neither a group nor a registered migration is refused (UnknownMigration) before anything runs. */
export async function readKnownTarget(db: Queryable, schema: string, name: string): Promise<Target> {
  const target = await readTarget(db, schema, name)
  if (target.group === undefined) await readState(db, schema, name)
  return target
}

/** The target `migration` moves with: its group and the group's members, else itself alone. */
export async function readEnclosingTarget(db: Queryable, schema: string, migration: string): Promise<Target> {
  const group = await readGroupOf(db, schema, migration)
  return group === undefined
    ? migrationTarget(migration)
    : groupTarget(group, await readGroupMembers(db, schema, group))
}

/**
 * Refuses `action` on a migration that belongs to a group other than the one
 * moving (`movingGroup`, undefined when a migration moves alone), naming its
 * group and the same command on it (`command` is the CLI words after the name).
 */
export async function refuseMemberAlone(
  db: Queryable,
  schema: string,
  migration: string,
  action: string,
  command: string,
  movingGroup?: string,
): Promise<void> {
  const group = await readGroupOf(db, schema, migration)
  if (group !== undefined && group !== movingGroup)
    throw new GroupMemberMovedAlone(migration, group, action, `cutover ${action} ${group}${command}`)
}
