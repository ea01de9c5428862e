/** Loads registered migrations from the control schema, re-checked against the live catalog. */
import type pg from 'pg'
import { UnknownMigration } from '../../core/errors.js'
import { parseMigration } from '../../core/parse-config.js'
import type { MigrationDefinition } from '../../core/definition.js'
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'
import { inRolledBackTransaction } from '../../db/with-transaction.js'
import { checkAgainstCatalog, type CheckedMigration } from '../register.js'
import { retiredMigration } from '../retire/retired-migration.js'
import { readRetirement, retiredRefusal } from '../retire/retirement.js'

export async function registeredNames(client: pg.ClientBase, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${controlSchema(schema).table('migrations')} ORDER BY name`)
  return rows.map((r) => r.name)
}

/** The definition of `name` as registered, without the catalog check (what a command needs to know about routing). */
export async function loadDefinition(queryable: Queryable, schema: string, name: string): Promise<MigrationDefinition> {
  const { rows } = await queryable.query<{ definition: unknown }>(`SELECT definition FROM ${controlSchema(schema).table('migrations')} WHERE name = $1`, [name])
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

/** The definition of `name` as registered, with both tables' catalog info. */
export async function loadMigration(client: pg.ClientBase, schema: string, name: string, options: LoadOptions = {}): Promise<CheckedMigration> {
  const { rows } = await client.query<{ definition: unknown }>(`SELECT definition FROM ${controlSchema(schema).table('migrations')} WHERE name = $1`, [name])
  if (!rows[0]) throw new UnknownMigration(name)
  const definition = parseMigration(rows[0].definition)
  const retirement = await readRetirement(client, schema, name)
  if (retirement) {
    if (!options.allowRetired) throw retiredRefusal(name, retirement)
    return retiredMigration(client, definition, retirement)
  }
  // Compiling the mappings again catches a table changed since registration.
  return inRolledBackTransaction(client, () => checkAgainstCatalog(client, definition))
}
