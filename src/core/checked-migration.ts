/** A migration definition checked against the live catalog (store/catalog/check-against-catalog.ts): both tables as the catalog has them and the resolved mapping. */
import type { MigrationDefinition } from './definition.js'
import type { QualifiedName } from './identifiers.js'
import type { ResolvedMapping } from './mapping.js'
import type { TableInfo } from './table-info.js'

export interface CheckedMigration {
  readonly definition: MigrationDefinition
  readonly legacy: TableInfo
  readonly shadow: TableInfo
  readonly mapping: ResolvedMapping
  /** Set for a retired migration: where the legacy rows are now (the definition's legacy name may be the alias view). */
  readonly retiredLegacyTable?: QualifiedName
  /** What registration says without refusing (a logical key no index of a partitioned shadow enforces). */
  readonly notes?: readonly string[]
}
