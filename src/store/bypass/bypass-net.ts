/**
 * Installs and removes a migration's bypass net (its trigger and functions,
 * built by bypass-net-sql.ts, and its row in `bypass_nets`), each in the
 * caller's transaction, with the event that says who did it.
 */
import { TransitionInvalid } from '../../core/errors.js'
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'
import { migrationShape } from '../../shape/migration-shape.js'
import type pg from 'pg'
import { loadMigration } from '../definitions/definitions.js'
import { installNetSql, removeNetSql, type NetMode } from './bypass-net-sql.js'

/** A net as stored: its mode, the legacy table it is on (named as it is now) and the definition it was built from. */
export interface InstalledNet {
  readonly mode: NetMode
  readonly legacyTable: string
  readonly definitionVersion: number
  readonly installedAt: Date
  readonly installedBy: string
}

/** What an installed net was built from: the registered definition version and its resolved mapping, shown to the installer. */
export interface NetSource {
  readonly definitionVersion: number
  readonly registeredBy: string
  readonly registeredAt: Date | undefined
  /** The explicit forward expressions the net evaluates, as resolved at registration. */
  readonly forward: readonly { readonly column: string; readonly expression: string }[]
}

export interface NetChange {
  readonly schema: string
  readonly migration: string
  readonly actor: string
  readonly reason?: string | undefined
}

/** The net installed on `migration`, or undefined. */
export async function readNet(db: Queryable, schema: string, migration: string): Promise<InstalledNet | undefined> {
  const { rows } = await db.query<{
    mode: NetMode
    legacy_table: string
    definition_version: number
    installed_at: Date
    installed_by: string
  }>(
    `SELECT mode, legacy_table::text AS legacy_table, definition_version, installed_at, installed_by FROM ${controlSchema(schema).table('bypass_nets')} WHERE migration = $1`,
    [migration],
  )
  const row = rows[0]
  return (
    row && {
      mode: row.mode,
      legacyTable: row.legacy_table,
      definitionVersion: row.definition_version,
      installedAt: row.installed_at,
      installedBy: row.installed_by,
    }
  )
}

/** Installs (or replaces, e.g. in another mode or after a changed definition) the net; refused for a retired migration. */
export async function installNet(
  client: pg.ClientBase,
  change: NetChange & { readonly mode: NetMode },
): Promise<{ readonly replaced: InstalledNet | undefined; readonly built: NetSource }> {
  const control = controlSchema(change.schema)
  // Refuses a retired migration (its legacy table is renamed) with the unretire command.
  const checked = await loadMigration(client, change.schema, change.migration)
  const { rows } = await client.query<{ phase: string }>(
    `SELECT phase FROM ${control.table('state')} WHERE migration = $1 FOR UPDATE`,
    [change.migration],
  )
  if (rows[0]?.phase === 'complete') {
    throw new TransitionInvalid(
      change.migration,
      'is complete: the DAL no longer writes legacy, so a net could not tell a stale legacy row from a new one; retire the legacy table instead (cutover retire ' +
        change.migration +
        ')',
    )
  }
  // The net runs the mapping as its installer: only as the server resolved it at registration (sql/0010), never as written.
  const explicit = Object.keys(checked.definition.forward).length + Object.keys(checked.definition.backward).length
  if (explicit > 0 && checked.definition.resolved === undefined) {
    throw new TransitionInvalid(
      change.migration,
      'was registered before cutover resolved mapping expressions (control schema 0010), and the net would run its mapping as you; register it again first: cutover register --config <the config file>',
    )
  }
  const { rows: registeredBy } = await client.query<{ actor: string; db_user: string | null; at: Date }>(
    `SELECT actor, to_jsonb(e) ->> 'db_user' AS db_user, at FROM ${control.table('events')} e
      WHERE migration = $1 AND kind IN ('registered', 're-registered') ORDER BY id DESC LIMIT 1`,
    [change.migration],
  )
  const replaced = await readNet(client, change.schema, change.migration)
  const shape = migrationShape(checked)
  for (const statement of installNetSql(shape, change.schema, change.mode)) await client.query(statement)
  await client.query(
    `INSERT INTO ${control.table('bypass_nets')} (migration, mode, legacy_table, definition_version, installed_by) VALUES ($1, $2, $3::regclass, $4, $5)
     ON CONFLICT (migration) DO UPDATE SET mode = EXCLUDED.mode, legacy_table = EXCLUDED.legacy_table, definition_version = EXCLUDED.definition_version,
       installed_at = clock_timestamp(), installed_by = EXCLUDED.installed_by`,
    [change.migration, change.mode, shape.legacyTable, checked.definitionVersion, change.actor],
  )
  await control.insertEvent(client, {
    migration: change.migration,
    actor: change.actor,
    kind: 'bypass_net_install',
    reason: change.reason,
    details: {
      mode: change.mode,
      definitionVersion: checked.definitionVersion,
      ...(replaced ? { replacedMode: replaced.mode } : {}),
    },
  })
  const by = registeredBy[0]
  return {
    replaced,
    built: {
      definitionVersion: checked.definitionVersion,
      registeredBy: by
        ? by.db_user && by.db_user !== by.actor
          ? `${by.actor} (login role ${by.db_user})`
          : by.actor
        : 'unknown',
      registeredAt: by?.at,
      forward: shape.forward.filter((m) => Object.hasOwn(checked.definition.forward, m.column)),
    },
  }
}

/** Removes the net, when there is one; `why` says which command did (net remove, rollback, retire). */
export async function removeNet(
  client: pg.ClientBase,
  change: NetChange & { readonly why: string },
): Promise<InstalledNet | undefined> {
  const net = await readNet(client, change.schema, change.migration)
  if (!net) return undefined
  for (const statement of removeNetSql(change.schema, change.migration, net.legacyTable)) await client.query(statement)
  await client.query(`DELETE FROM ${controlSchema(change.schema).table('bypass_nets')} WHERE migration = $1`, [
    change.migration,
  ])
  await controlSchema(change.schema).insertEvent(client, {
    migration: change.migration,
    actor: change.actor,
    kind: 'bypass_net_remove',
    reason: change.reason,
    details: { mode: net.mode, by: change.why },
  })
  return net
}
