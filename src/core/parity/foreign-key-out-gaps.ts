/** Foreign keys out: keys of the legacy table to other tables (or itself) with no equivalent on the shadow. */
import { displayName } from '../identifiers.js'
import { addForeignKey, describeFk, fkClause, fkMeaning } from './foreign-key.js'
import { byPerson, freeName } from './naming.js'
import type { ParityGap, ParityInput } from './parity-gap.js'
import { isUntranslatable, type Translator } from './translator.js'

export function foreignKeyOutGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, shadow } = input
  const existing = new Set(shadow.foreignKeysOut.map((fk) => fkMeaning(fk, fk.columns, fk.refTableOid, fk.refColumns)))
  const gaps: ParityGap[] = []
  for (const fk of legacy.foreignKeysOut) {
    const isSelf = fk.refTableOid === legacy.oid
    const columns = t.columnList(fk.columns)
    const refColumns = isSelf ? t.columnList(fk.refColumns) : [...fk.refColumns]
    const bad = isUntranslatable(columns) ? columns : isUntranslatable(refColumns) ? refColumns : undefined
    if (bad) {
      if (shadow.foreignKeysOut.some((s) => s.name === fk.name)) continue
      gaps.push({
        item: 'foreign_key_out',
        object: fk.name,
        description:
          `foreign key ${describeFk(fk)} has no equivalent on ${displayName(shadow.table)}; ` +
          byPerson(bad.untranslatable, shadow.table, 'foreign key', fk.name),
        fixSql: null,
      })
      continue
    }
    const cols = columns as string[]
    const refCols = refColumns as string[]
    const refTable = isSelf ? shadow.table : fk.refTable
    const refOid = isSelf ? shadow.oid : fk.refTableOid
    if (existing.has(fkMeaning({ ...fk, tableOid: shadow.oid }, cols, refOid, refCols))) continue
    const name = freeName(fk.name, shadow.constraintNames)
    gaps.push({
      item: 'foreign_key_out',
      object: fk.name,
      description: `foreign key ${describeFk(fk)} has no equivalent on ${displayName(shadow.table)}`,
      fixSql: addForeignKey(shadow.table, name, fkClause(cols, refTable, refCols, fk)),
    })
  }
  return gaps
}
