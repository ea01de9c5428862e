/**
 * What a phase change does to the tables besides the state row, in the same
 * transaction: when the shadow becomes authoritative, the key source moves to
 * the shadow's sequence and the foreign keys that reference legacy move to the
 * shadow (again on entering complete, for a key added since). After a
 * rollback from shadow_primary has committed, the foreign keys go back.
 */
import type pg from 'pg'
import { CutoverError } from '../core/errors.js'
import { DEFAULT_RETIRE_LOCK_TIMEOUT_MS } from '../core/lock-timeouts.js'
import type { StatePlan } from '../core/phases.js'
import type { Target } from '../core/target.js'
import { serverMessage } from '../db/pg-errors.js'
import type { PoolLike } from '../db/queryable.js'
import { withTransaction } from '../db/with-transaction.js'
import { controlSchema } from '../db/control-schema.js'
import { inRolledBackTransaction } from '../db/with-transaction.js'
import { checkAgainstCatalog } from '../store/catalog/check-against-catalog.js'
import { loadDefinition } from '../store/definitions/definitions.js'
import {
  moveForeignKeysBack,
  moveForeignKeysToShadow,
  readMovedForeignKeys,
} from '../store/keys/incoming-foreign-keys.js'
import { moveKeySourceToShadow } from '../store/keys/key-source-sql.js'
import { setLockTimeout } from '../db/set-lock-timeout.js'

/** The lock timeout of the table DDL of a phase change: as retire's, each lock. */
const AUTHORITY_LOCK_TIMEOUT_MS = DEFAULT_RETIRE_LOCK_TIMEOUT_MS

/**
 * Runs in the state change's transaction once its gates passed; adds what it did to the event's details.
 * A group's change moves each member's key source only (foreign keys between and into a group's
 * tables move with `cutover retire <group>`).
 */
export async function moveToShadowAuthority(
  client: pg.PoolClient,
  schema: string,
  target: Target,
  plan: StatePlan,
  details: Record<string, unknown>,
): Promise<void> {
  if (target.group !== undefined) return moveGroupKeySources(client, schema, target.members, plan, details)
  const migration = target.name
  const entersShadow = plan.from.authority === 'legacy' && plan.to.authority === 'shadow'
  if (!entersShadow && plan.to.phase !== 'complete') return
  await setLockTimeout(client, AUTHORITY_LOCK_TIMEOUT_MS)
  const checked = await checkAgainstCatalog(client, await loadDefinition(client, schema, migration))
  if (entersShadow) {
    const sources = await moveKeySourceToShadow(client, checked)
    if (sources.length > 0)
      details.keySource = sources.map((s) => ({ column: s.shadowColumn, sequence: s.shadowSequence }))
  }
  const moved = await moveForeignKeysToShadow(client, checked, plan.to.phase === 'complete')
  if (moved.length > 0) {
    // Kept in full, with what came before: a rollback puts back every key still moved.
    details.foreignKeysMoved = [...(await readMovedForeignKeys(client, schema, migration)), ...moved]
  }
}

/** A group's change: each member's key source moves to its shadow as the group's shadows become authoritative. */
async function moveGroupKeySources(
  client: pg.PoolClient,
  schema: string,
  members: readonly string[],
  plan: StatePlan,
  details: Record<string, unknown>,
): Promise<void> {
  if (!(plan.from.authority === 'legacy' && plan.to.authority === 'shadow')) return
  await setLockTimeout(client, AUTHORITY_LOCK_TIMEOUT_MS)
  const moved: Record<string, unknown>[] = []
  for (const member of members) {
    const checked = await checkAgainstCatalog(client, await loadDefinition(client, schema, member))
    for (const s of await moveKeySourceToShadow(client, checked))
      moved.push({ migration: member, column: s.shadowColumn, sequence: s.shadowSequence })
  }
  if (moved.length > 0) details.keySource = moved
}

/**
 * After a rollback has committed: the foreign keys moved to the shadow go back to legacy, under a lock timeout,
 * so a busy child table never delays a rollback; when they cannot, the rollback stands (the DAL writes both tables,
 * so a child row finds its parent either way) and the result says how to finish. Never throws.
 */
export async function moveForeignKeysBackAfterRollback(
  pool: PoolLike,
  options: { schema: string; migration: string; actor: string; reason?: string | undefined },
): Promise<string | undefined> {
  try {
    return await withTransaction(pool, async (client) => {
      const moved = await readMovedForeignKeys(client, options.schema, options.migration)
      if (moved.length === 0) return undefined
      await setLockTimeout(client, AUTHORITY_LOCK_TIMEOUT_MS)
      const definition = await loadDefinition(client, options.schema, options.migration)
      const checked = await inRolledBackTransaction(client, () => checkAgainstCatalog(client, definition))
      const restored = await moveForeignKeysBack(client, checked, moved)
      await controlSchema(options.schema).insertEvent(client, {
        migration: options.migration,
        actor: options.actor,
        kind: 'foreign_keys_back',
        reason: options.reason,
        details: { foreignKeys: restored },
      })
      return `foreign key(s) referencing the legacy table again: ${restored.join(', ')}`
    })
  } catch (error) {
    const why = error instanceof CutoverError ? error.message : serverMessage(error)
    return `foreign keys still reference the shadow (${why}); they move back with the next rollback: cutover rollback ${options.migration}`
  }
}
