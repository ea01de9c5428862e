/** Judges the two sides of a compared read: equal, or which kind of divergence, with both hashes. */
import { rowHash } from '../core/row-hash.js'

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
  return legacyHash === shadowHash ? { result: 'match', legacyHash, shadowHash } : { result: 'mismatch', kind: 'mismatch', legacyHash, shadowHash }
}
