/** Row-level security: enabled or forced on the legacy table but not on the shadow. */
import { displayName, quoteQualified } from '../identifiers.js'
import type { ParityGap, ParityInput } from './parity-gap.js'

export function rlsGaps({ legacy, shadow }: ParityInput): ParityGap[] {
  const gaps: ParityGap[] = []
  const table = quoteQualified(shadow.table)
  if (legacy.rowSecurity && !shadow.rowSecurity) {
    gaps.push({
      item: 'rls',
      object: 'row level security',
      description:
        `row level security is enabled on ${displayName(legacy.table)} ` + `but not on ${displayName(shadow.table)}`,
      fixSql: `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    })
  }
  if (legacy.forceRowSecurity && !shadow.forceRowSecurity) {
    gaps.push({
      item: 'rls',
      object: 'forced row level security',
      description:
        `row level security is forced (applies to the owner too) on ${displayName(legacy.table)} ` +
        `but not on ${displayName(shadow.table)}`,
      fixSql: `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    })
  }
  return gaps
}
