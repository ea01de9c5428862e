/** Checks: check constraints of the legacy table with no equivalent (same expression) on the shadow. */
import { displayName, quoteIdent, quoteQualified } from '../identifiers.js'
import { expressionKey } from '../sql-tokens.js'
import { byPerson, freeName } from './naming.js'
import type { ParityGap, ParityInput } from './parity-gap.js'
import { isUntranslatable, type Translator } from './translator.js'

export function checkGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, shadow } = input
  const shadowKeys = new Set(shadow.checks.map((c) => `${c.isNoInherit}\u0002${expressionKey(c.expression)}`))
  const gaps: ParityGap[] = []
  for (const c of legacy.checks) {
    const translated = t.expression(c.expression)
    if (isUntranslatable(translated)) {
      if (shadow.checks.some((s) => s.name === c.name)) continue
      gaps.push({
        item: 'check',
        object: c.name,
        description:
          `check constraint "${c.name}" ${c.expression} of ${displayName(legacy.table)} has no equivalent ` +
          `on ${displayName(shadow.table)}; ` +
          byPerson(translated.untranslatable, shadow.table, 'check constraint', c.name),
        fixSql: null,
      })
      continue
    }
    if (shadowKeys.has(`${c.isNoInherit}\u0002${translated.key}`)) continue
    const table = quoteQualified(shadow.table)
    const name = quoteIdent(freeName(c.name, shadow.constraintNames))
    const add =
      `ALTER TABLE ${table} ADD CONSTRAINT ${name} CHECK (${translated.sql})` +
      `${c.isNoInherit ? ' NO INHERIT' : ''} NOT VALID`
    gaps.push({
      item: 'check',
      object: c.name,
      description:
        `check constraint "${c.name}" ${c.expression} of ${displayName(legacy.table)} ` +
        `has no equivalent on ${displayName(shadow.table)}`,
      fixSql: c.isValidated ? `${add};\nALTER TABLE ${table} VALIDATE CONSTRAINT ${name}` : add,
    })
  }
  return gaps
}
