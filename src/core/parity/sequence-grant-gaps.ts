/** Grants on owned sequences: privileges on the legacy table's sequences that the shadow's lack. */
import { displayName, quoteQualified } from '../identifiers.js'
import type { GrantFact } from './facts.js'
import { roleName, roleSql } from './naming.js'
import type { ParityGap, ParityInput } from './parity-gap.js'

/** Privileges on the legacy table's owned sequences that the shadow's lack (inserts need USAGE on them). */
export function sequenceGrantGaps(input: ParityInput): ParityGap[] {
  const gaps: ParityGap[] = []
  for (const seq of input.legacy.sequences) {
    const target = input.columns.get(seq.column)
    const mine = input.shadow.sequences.find((s) => s.column === target)
    if (!mine) continue
    const missing = (g: GrantFact) =>
      !mine.grants.some(
        (s) => s.grantee === g.grantee && s.privilege === g.privilege && (!g.isGrantable || s.isGrantable),
      )
    for (const grantee of [...new Set(seq.grants.map((g) => g.grantee))]) {
      const lacking = seq.grants.filter((g) => g.grantee === grantee && missing(g))
      if (lacking.length === 0) continue
      gaps.push({
        item: 'grant',
        object: `${roleName(grantee)} on sequence ${displayName(mine.sequence)}`,
        description:
          `role ${roleName(grantee)} has ${lacking.map((g) => g.privilege).join(', ')} ` +
          `on sequence ${displayName(seq.sequence)} but not on ${displayName(mine.sequence)}`,
        fixSql:
          `GRANT ${lacking.map((g) => g.privilege).join(', ')} ON SEQUENCE ${quoteQualified(mine.sequence)} ` +
          `TO ${roleSql(grantee)}`,
      })
    }
  }
  return gaps
}
