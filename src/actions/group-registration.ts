/**
 * What `register` refuses about groups, judged in its transaction after the
 * definitions are written: a group named like a migration, and a group whose
 * members are not in one state (they could then never move as one).
 */
import type pg from 'pg'
import { ConfigInvalid } from '../core/errors.js'
import { readGroupInDifferentStates, readMigrationNamedLikeGroup } from '../store/groups/group-registration-sql.js'

export async function checkGroupsRegistered(
  client: pg.ClientBase,
  schema: string,
  names: readonly string[],
): Promise<void> {
  const clash = await readMigrationNamedLikeGroup(client, schema)
  if (clash !== undefined) {
    throw new ConfigInvalid(
      clash,
      `is also the name of a group; commands take either, so give the group or the migration another name`,
    )
  }
  const mixed = await readGroupInDifferentStates(client, schema, names)
  if (mixed) {
    throw new ConfigInvalid(
      undefined,
      `group "${mixed.group}" would join migrations in different states (${mixed.states}); a group moves as one, so bring them to one phase first (cutover rollback each one to dual_write) and register again`,
    )
  }
}
