/**
 * The catalog view of a retired migration for the DAL: the shadow from the
 * live catalog, the legacy shape from what retire recorded (the legacy name
 * may now be the alias view, and the retired table may have been dropped).
 */
import type pg from 'pg'
import type { MigrationDefinition } from '../../core/definition.js'
import { ConfigInvalid } from '../../core/errors.js'
import { displayName } from '../../core/identifiers.js'
import { resolveMapping } from '../../core/mapping.js'
import { readTableInfo, type TableInfo } from '../catalog/catalog.js'
import type { CheckedMigration } from '../catalog/check-against-catalog.js'
import type { Retirement } from './retirement.js'

export async function retiredMigration(
  client: pg.ClientBase,
  definition: MigrationDefinition,
  retirement: Retirement,
): Promise<CheckedMigration> {
  const shadow = await readTableInfo(client, definition.shadow.table)
  if (!shadow)
    throw new ConfigInvalid(definition.name, `shadow table ${displayName(definition.shadow.table)} does not exist`)
  const columns = retirement.details.legacyColumns
  const legacy: TableInfo = { oid: 0, columns: new Map(columns.map((c) => [c.name, c])), uniqueKeys: [] }
  const mapping = resolveMapping(definition, columns, [...shadow.columns.values()])
  return { definition, legacy, shadow, mapping, retiredLegacyTable: retirement.details.retiredTable }
}
