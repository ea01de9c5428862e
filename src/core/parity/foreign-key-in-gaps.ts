/** Foreign keys in: keys of other tables that reference the legacy table and need an equivalent to the shadow. */
import { displayName, quoteIdent } from '../identifiers.js'
import { expressionKey } from '../sql-tokens.js'
import { addForeignKey, describeFk, fkClause, fkMeaning } from './foreign-key.js'
import { freeName, sameSet } from './naming.js'
import type { ParityGap, ParityInput } from './parity-gap.js'
import { isUntranslatable, type Translator } from './translator.js'

export function foreignKeyInGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, shadow } = input
  const existing = new Set(shadow.foreignKeysIn.map((fk) => fkMeaning(fk, fk.columns, fk.refTableOid, fk.refColumns)))
  const gaps: ParityGap[] = []
  for (const fk of legacy.foreignKeysIn) {
    const refColumns = t.columnList(fk.refColumns)
    const object = `${displayName(fk.table)}.${fk.name}`
    if (isUntranslatable(refColumns)) {
      const personal = `${fk.name}_shadow`
      if (shadow.foreignKeysIn.some((s) => s.tableOid === fk.tableOid && s.name === personal)) continue
      gaps.push({
        item: 'foreign_key_in',
        object,
        description:
          `foreign key ${describeFk(fk)} references the legacy table; ${displayName(fk.table)} ` +
          `needs an equivalent foreign key referencing ${displayName(shadow.table)}, ` +
          `but it references legacy column "${refColumns.untranslatable}", which the mapping does not copy ` +
          `as a plain column, so a person must write it (named "${personal}", so this check sees it was done)`,
        fixSql: null,
      })
      continue
    }
    if (existing.has(fkMeaning(fk, fk.columns, shadow.oid, refColumns))) continue
    const name = freeName(`${fk.name}_shadow`, fk.tableConstraintNames)
    const hasKey = shadow.uniqueIndexes.some(
      (ix) =>
        ix.predicate === null &&
        sameSet(
          ix.keys.map(expressionKey),
          refColumns.map((c) => expressionKey(quoteIdent(c))),
        ),
    )
    const referenced = `${displayName(shadow.table)} (${refColumns.join(', ')})`
    gaps.push({
      item: 'foreign_key_in',
      object,
      description:
        `foreign key ${describeFk(fk)} references the legacy table; ${displayName(fk.table)} ` +
        `needs an equivalent foreign key referencing ${referenced}` +
        (hasKey ? '' : `, which first needs a unique key on ${referenced} (see the unique_index gap)`),
      fixSql: addForeignKey(fk.table, name, fkClause(fk.columns, shadow.table, refColumns, fk)),
    })
  }
  return gaps
}
