/** Policies: row-level security policies of the legacy table with no equivalent (same meaning) on the shadow. */
import { displayName, quoteIdent, quoteQualified } from '../identifiers.js'
import { expressionKey, type Translated } from '../sql-tokens.js'
import type { PolicyFact } from './facts.js'
import { byPerson, freeName, roleName, roleSql } from './naming.js'
import type { ParityGap, ParityInput } from './parity-gap.js'
import { isUntranslatable, type Translator, type Untranslatable } from './translator.js'

function policyMeaning(p: PolicyFact, using: string | null, withCheck: string | null): string {
  const roles = [...p.roles].map(roleName).sort().join(',')
  return [p.command, p.isPermissive, roles, using ?? '', withCheck ?? ''].join('\u0002')
}

export function policyGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, shadow } = input
  const shadowMeanings = new Set(
    shadow.policies.map((p) =>
      policyMeaning(
        p,
        p.using === null ? null : expressionKey(p.using),
        p.withCheck === null ? null : expressionKey(p.withCheck),
      ),
    ),
  )
  const gaps: ParityGap[] = []
  for (const p of legacy.policies) {
    const using = p.using === null ? null : t.expression(p.using)
    const withCheck = p.withCheck === null ? null : t.expression(p.withCheck)
    const bad = [using, withCheck].find((x) => x !== null && isUntranslatable(x)) as Untranslatable | undefined
    const object = p.name
    if (bad) {
      if (shadow.policies.some((s) => s.name === p.name)) continue
      gaps.push({
        item: 'policy',
        object,
        description:
          `policy "${p.name}" of ${displayName(legacy.table)} has no equivalent on ` +
          `${displayName(shadow.table)}; ${byPerson(bad.untranslatable, shadow.table, 'policy', p.name)}`,
        fixSql: null,
      })
      continue
    }
    const u = using as Translated | null
    const w = withCheck as Translated | null
    if (shadowMeanings.has(policyMeaning(p, u?.key ?? null, w?.key ?? null))) continue
    const name = freeName(
      p.name,
      shadow.policies.map((s) => s.name),
    )
    const sql =
      `CREATE POLICY ${quoteIdent(name)} ON ${quoteQualified(shadow.table)} ` +
      `AS ${p.isPermissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${p.command} TO ${p.roles.map(roleSql).join(', ')}` +
      (u ? ` USING (${u.sql})` : '') +
      (w ? ` WITH CHECK (${w.sql})` : '')
    gaps.push({
      item: 'policy',
      object,
      description:
        `policy "${p.name}" (${p.command} for ${p.roles.map(roleName).join(', ')}) ` +
        `of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}`,
      fixSql: sql,
    })
  }
  return gaps
}
