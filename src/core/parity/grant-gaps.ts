/** Grants: privileges roles hold on the legacy table (whole table or columns) that they lack on the shadow. */
import { displayName, quoteIdent, quoteQualified } from '../identifiers.js'
import type { GrantFact } from './facts.js'
import { roleName, roleSql } from './naming.js'
import type { ParityGap, ParityInput } from './parity-gap.js'

export function grantGaps(input: ParityInput): ParityGap[] {
  const { legacy, shadow, columns } = input
  const gaps: ParityGap[] = []
  const shadowTable = quoteQualified(shadow.table)
  const has = (g: GrantFact, column: string | null, needGrantOption: boolean) =>
    shadow.grants.some(
      (s) =>
        s.grantee === g.grantee &&
        s.privilege === g.privilege &&
        (s.column === null || s.column === column) &&
        (!needGrantOption || s.isGrantable),
    )
  const grantees = [...new Set(legacy.grants.map((g) => g.grantee))]
  for (const grantee of grantees) {
    const mine = legacy.grants.filter((g) => g.grantee === grantee)
    const tableMissing = mine.filter((g) => g.column === null && !has(g, null, g.isGrantable))
    if (tableMissing.length > 0) {
      const statements: string[] = []
      for (const withOption of [false, true]) {
        const privileges = tableMissing.filter((g) => g.isGrantable === withOption).map((g) => g.privilege)
        if (privileges.length > 0) {
          statements.push(
            `GRANT ${privileges.join(', ')} ON TABLE ${shadowTable} TO ${roleSql(grantee)}` +
              `${withOption ? ' WITH GRANT OPTION' : ''}`,
          )
        }
      }
      const held = tableMissing.map((g) => g.privilege + (g.isGrantable ? ' (with grant option)' : '')).join(', ')
      gaps.push({
        item: 'grant',
        object: roleName(grantee),
        description:
          `role ${roleName(grantee)} has ${held} on ${displayName(legacy.table)} ` +
          `but not on ${displayName(shadow.table)}`,
        fixSql: statements.join(';\n'),
      })
    }
    const columnMissing = mine.filter((g) => g.column !== null && !has(g, columns.get(g.column) ?? null, g.isGrantable))
    if (columnMissing.length > 0) {
      const unmapped = columnMissing.find((g) => !columns.has(g.column as string))?.column
      const held = columnMissing.map((g) => `${g.privilege} (${g.column as string})`).join(', ')
      gaps.push({
        item: 'grant',
        object: `${roleName(grantee)} (columns)`,
        description:
          `role ${roleName(grantee)} has ${held} on ${displayName(legacy.table)} ` +
          `but not on ${displayName(shadow.table)}` +
          (unmapped
            ? `; legacy column "${unmapped}" has no plain copy on the shadow, so a person must write the grant`
            : ''),
        fixSql: unmapped
          ? null
          : columnMissing
              .map(
                (g) =>
                  `GRANT ${g.privilege} (${quoteIdent(columns.get(g.column as string) as string)}) ` +
                  `ON TABLE ${shadowTable} TO ${roleSql(grantee)}${g.isGrantable ? ' WITH GRANT OPTION' : ''}`,
              )
              .join(';\n'),
      })
    }
  }
  return gaps
}
