/** Judges the two sides of a compared read: equal, or which kind of divergence, with both hashes. */
import { isJsonType, readBackKey } from '../core/compare-sql.js'
import { canonicalJsonNumbers } from '../core/json-text.js'
import { rowHash } from '../core/row-hash.js'
import type { MigrationShape } from './migration-shape.js'

export interface SideRow {
  /** The row in the legacy shape, as it would be served. */
  readonly row: Record<string, unknown>
  /** Its comparable projection, in the shadow's shape. */
  readonly comparable: Record<string, unknown>
}

export interface Judgement {
  readonly result: 'match' | 'mismatch'
  readonly kind?: 'mismatch' | 'missing_in_shadow' | 'missing_in_legacy'
  readonly legacyHash: string | null
  readonly shadowHash: string | null
}

export function judge(legacy: SideRow | undefined, shadow: SideRow | undefined): Judgement {
  const legacyHash = legacy ? rowHash(legacy.comparable) : null
  const shadowHash = shadow ? rowHash(shadow.comparable) : null
  if (!legacy && !shadow) return { result: 'match', legacyHash, shadowHash }
  if (!shadow) return { result: 'mismatch', kind: 'missing_in_shadow', legacyHash, shadowHash }
  if (!legacy) return { result: 'mismatch', kind: 'missing_in_legacy', legacyHash, shadowHash }
  return legacyHash === shadowHash
    ? { result: 'match', legacyHash, shadowHash }
    : { result: 'mismatch', kind: 'mismatch', legacyHash, shadowHash }
}

/**
 * The columns two comparable projections differ in: a shadow column by its name, a legacy column as the caller
 * reads it back by `<column> (read back)`.
 */
export function differingColumns(legacy: Record<string, unknown>, shadow: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(legacy), ...Object.keys(shadow)])]
  return keys
    .filter((k) => JSON.stringify(legacy[k]) !== JSON.stringify(shadow[k]))
    .map((k) => (k.startsWith(READ_BACK_PREFIX) ? `${k.slice(READ_BACK_PREFIX.length)} (read back)` : k))
}

const READ_BACK_PREFIX = readBackKey('')

/**
 * A comparable projection as the server returned it (core/compare-sql.ts), made
 * ready to hash: JSON columns arrive as jsonb text, and get their numbers
 * canonicalised here (`1.0` and `1` are one jsonb value; no digit is lost).
 */
export function comparableRow(shape: MigrationShape, comparable: unknown): Record<string, unknown> {
  const out = { ...(comparable as Record<string, unknown>) }
  for (const column of shape.shadowColumns) {
    const value = out[column.name]
    if (typeof value === 'string' && isJsonType(column.type)) out[column.name] = canonicalJsonNumbers(value)
  }
  for (const column of shape.legacyColumns) {
    const value = out[readBackKey(column.name)]
    if (typeof value === 'string' && isJsonType(column.type))
      out[readBackKey(column.name)] = canonicalJsonNumbers(value)
  }
  return out
}
