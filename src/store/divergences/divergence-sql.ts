/** Records divergences: one open row per key, updated when the same key is seen again. */
import { divergencesTable, divergenceUpsertSql } from './divergence-upsert-sql.js'

export interface DivergenceInput {
  readonly migration: string
  readonly key: Readonly<Record<string, unknown>>
  readonly source: 'write' | 'read' | 'verify' | 'calibrate'
  readonly kind: 'mismatch' | 'missing_in_shadow' | 'missing_in_legacy' | 'write_rejected'
  readonly legacyHash?: string | null
  readonly shadowHash?: string | null
  readonly legacyRow?: unknown
  readonly shadowRow?: unknown
  readonly detail?: string | null
}

/** The upsert; returns `inserted` true when the key was not already open. */
export function recordDivergenceSql(schema: string, d: DivergenceInput): { text: string; values: unknown[] } {
  const columns = [
    'migration',
    'key',
    'source',
    'kind',
    'legacy_hash',
    'shadow_hash',
    'legacy_row',
    'shadow_row',
    'detail',
  ] as const
  return {
    text: divergenceUpsertSql({
      table: divergencesTable(schema),
      columns,
      rows: 'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      refreshed: columns.filter((c) => c !== 'migration' && c !== 'key'),
      returning: '(xmax = 0) AS inserted',
    }),
    values: [
      d.migration,
      JSON.stringify(d.key),
      d.source,
      d.kind,
      d.legacyHash ?? null,
      d.shadowHash ?? null,
      d.legacyRow === undefined ? null : JSON.stringify(d.legacyRow),
      d.shadowRow === undefined ? null : JSON.stringify(d.shadowRow),
      d.detail ?? null,
    ],
  }
}
