/** Loads registered migrations from the control schema, re-checked against the live catalog. */
import type pg from 'pg'
import { UnknownMigration } from '../../core/errors.js'
import { parseMigration } from '../../core/parse-config.js'
import type { MigrationDefinition } from '../../core/definition.js'
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'
import { inRolledBackTransaction } from '../../db/with-transaction.js'
import { checkAgainstCatalog, type CheckedMigration } from '../catalog/check-against-catalog.js'
import { retiredMigration } from '../retire/retired-migration.js'
import { readRetirement, retiredRefusal } from '../retire/retirement.js'
import { DEFINITION_VERSION_SQL } from '../state/state-row.js'

export async function registeredNames(client: pg.ClientBase, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT name FROM ${controlSchema(schema).table('migrations')} ORDER BY name`,
  )
  return rows.map((r) => r.name)
}

/** The soak a migration's definition asks for before shadow_primary (`soakSeconds`); null when it sets none. */
export async function readSoakSeconds(queryable: Queryable, schema: string, name: string): Promise<number | null> {
  const { rows } = await queryable.query<{ soak: number | null }>(
    `SELECT (definition ->> 'soakSeconds')::float8 AS soak FROM ${controlSchema(schema).table('migrations')} WHERE name = $1`,
    [name],
  )
  return rows[0]?.soak ?? null
}

/** The definition of `name` as registered, without the catalog check (what a command needs to know about routing). */
export async function loadDefinition(queryable: Queryable, schema: string, name: string): Promise<MigrationDefinition> {
  const { rows } = await queryable.query<{ definition: unknown }>(
    `SELECT definition FROM ${controlSchema(schema).table('migrations')} WHERE name = $1`,
    [name],
  )
  if (!rows[0]) throw new UnknownMigration(name)
  return parseMigration(rows[0].definition)
}

export interface LoadOptions {
  /**
   * A retired migration (its legacy table renamed by `cutover retire`) is
   * refused with "retired; run cutover unretire M first" unless this is set:
   * only the DAL sets it, since in `complete` it touches the shadow alone.
   */
  readonly allowRetired?: boolean
}

/** The definition of `name` as registered, with both tables' catalog info and its definition version (sql/0005; 1 before it). */
export async function loadMigration(
  client: pg.ClientBase,
  schema: string,
  name: string,
  options: LoadOptions = {},
): Promise<CheckedMigration & { definitionVersion: number }> {
  const control = controlSchema(schema)
  const { rows } = await client.query<{ definition: unknown; definition_version: string | null }>(
    `SELECT m.definition, ${DEFINITION_VERSION_SQL('st')} AS definition_version
       FROM ${control.table('migrations')} m LEFT JOIN ${control.table('state')} st ON st.migration = m.name WHERE m.name = $1`,
    [name],
  )
  if (!rows[0]) throw new UnknownMigration(name)
  const definition = parseMigration(rows[0].definition)
  const definitionVersion = Number(rows[0].definition_version ?? 1)
  const retirement = await readRetirement(client, schema, name)
  if (retirement) {
    if (!options.allowRetired) throw retiredRefusal(name, retirement)
    return { ...(await retiredMigration(client, definition, retirement)), definitionVersion }
  }
  // Compiling the mappings again catches a table changed since registration.
  return {
    ...(await inRolledBackTransaction(client, () => checkAgainstCatalog(client, definition))),
    definitionVersion,
  }
}
