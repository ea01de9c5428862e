/**
 * Triggers: enabled triggers of the legacy table with no enabled equivalent (same meaning) on the shadow. Cutover's own
 * triggers (a bypass net's) are left out on both tables: copied to the shadow they would call the net's function with
 * the shadow's rows.
 */
import { displayName, quoteIdent, quoteLiteral, quoteQualified, type QualifiedName } from '../identifiers.js'
import { expressionKey, tokenize, type Translated } from '../sql-tokens.js'
import type { TriggerFact } from './facts.js'
import { byPerson, freeName } from './naming.js'
import type { ParityGap, ParityInput } from './parity-gap.js'
import { isUntranslatable, type Translator } from './translator.js'

function triggerMeaning(tr: TriggerFact, updateColumns: readonly string[], when: string | null): string {
  return [
    tr.timing,
    [...tr.events].sort().join(','),
    [...updateColumns].sort().join(','),
    tr.isRow,
    when ?? '',
    tr.functionOid,
    tr.args.join('\u0003'),
    tr.oldTable !== null,
    tr.newTable !== null,
    tr.isConstraint,
    tr.isDeferrable,
    tr.isInitiallyDeferred,
    tr.constraintTable ?? '',
  ].join('\u0002')
}

/** The CREATE TRIGGER statement for the shadow, with its columns and WHEN condition already translated. */
function createTrigger(
  tr: TriggerFact,
  shadow: QualifiedName,
  name: string,
  cols: readonly string[],
  w: Translated | null,
): string {
  const events = tr.events
    .map((e) => (e === 'UPDATE' && cols.length > 0 ? `UPDATE OF ${cols.map(quoteIdent).join(', ')}` : e))
    .join(' OR ')
  const referencing =
    tr.oldTable !== null || tr.newTable !== null
      ? ` REFERENCING${tr.oldTable !== null ? ` OLD TABLE AS ${quoteIdent(tr.oldTable)}` : ''}` +
        `${tr.newTable !== null ? ` NEW TABLE AS ${quoteIdent(tr.newTable)}` : ''}`
      : ''
  const constraint = tr.isConstraint
    ? `${tr.constraintTable !== null ? ` FROM ${tr.constraintTable}` : ''}` +
      `${tr.isDeferrable ? ' DEFERRABLE' : ' NOT DEFERRABLE'}` +
      `${tr.isInitiallyDeferred ? ' INITIALLY DEFERRED' : ' INITIALLY IMMEDIATE'}`
    : ''
  return (
    `CREATE ${tr.isConstraint ? 'CONSTRAINT ' : ''}TRIGGER ${quoteIdent(name)} ${tr.timing} ${events} ` +
    `ON ${quoteQualified(shadow)}${constraint}${referencing}` +
    ` FOR EACH ${tr.isRow ? 'ROW' : 'STATEMENT'}${w ? ` WHEN (${w.sql})` : ''} ` +
    `EXECUTE FUNCTION ${tr.functionName}(${tr.args.map(quoteLiteral).join(', ')})`
  )
}

export function triggerGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, columns } = input
  const shadow = { ...input.shadow, triggers: input.shadow.triggers.filter((s) => !s.isCutoverOwned) }
  const gaps: ParityGap[] = []
  // A legacy column that is not on the shadow under the same name: a function body naming it was written for legacy.
  const moved = new Set(legacy.columns.filter((c) => columns.get(c) !== c))
  const shadowMeaning = (tr: TriggerFact) => {
    return triggerMeaning(tr, tr.updateColumns, tr.when === null ? null : expressionKey(tr.when))
  }
  for (const tr of legacy.triggers) {
    if (!tr.isEnabled || tr.isCutoverOwned) continue
    const updateColumns = t.columnList(tr.updateColumns)
    const when = tr.when === null ? null : t.expression(tr.when, ['new', 'old'])
    const fromFunction =
      tokenize(tr.functionSource).flatMap((tok) =>
        tok.kind === 'ident' && moved.has(tok.value) ? [tok.value] : [],
      )[0] ?? tr.args.find((a) => moved.has(a))
    const bad = isUntranslatable(updateColumns)
      ? updateColumns.untranslatable
      : when !== null && isUntranslatable(when)
        ? when.untranslatable
        : undefined
    if (bad !== undefined || fromFunction !== undefined) {
      if (shadow.triggers.some((s) => s.name === tr.name && s.isEnabled)) continue
      const why =
        fromFunction !== undefined
          ? `its function ${tr.functionName} was written for the legacy columns (it names "${fromFunction}", ` +
            'which the shadow does not have under that name), so a person must write a trigger function for ' +
            `${displayName(shadow.table)} and create the trigger there ` +
            `(under the same name "${tr.name}", so this check sees it was done)`
          : byPerson(bad as string, shadow.table, 'trigger', tr.name)
      gaps.push({
        item: 'trigger',
        object: tr.name,
        description:
          `trigger "${tr.name}" of ${displayName(legacy.table)} has no equivalent on ` +
          `${displayName(shadow.table)}; ${why}`,
        fixSql: null,
      })
      continue
    }
    const cols = updateColumns as string[]
    const w = when as Translated | null
    const meaning = triggerMeaning(tr, cols, w?.key ?? null)
    if (shadow.triggers.some((s) => s.isEnabled && shadowMeaning(s) === meaning)) continue
    const disabled = shadow.triggers.find((s) => !s.isEnabled && shadowMeaning(s) === meaning)
    if (disabled) {
      gaps.push({
        item: 'trigger',
        object: tr.name,
        description:
          `trigger "${tr.name}" of ${displayName(legacy.table)} matches trigger "${disabled.name}" ` +
          `of ${displayName(shadow.table)}, which is disabled`,
        fixSql: `ALTER TABLE ${quoteQualified(shadow.table)} ENABLE TRIGGER ${quoteIdent(disabled.name)}`,
      })
      continue
    }
    // Every name on the shadow is taken, cutover's triggers' too.
    const name = freeName(
      tr.name,
      input.shadow.triggers.map((s) => s.name),
    )
    gaps.push({
      item: 'trigger',
      object: tr.name,
      description:
        `trigger "${tr.name}" (${tr.timing} ${tr.events.join(' OR ')} → ${tr.functionName}) ` +
        `of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}`,
      fixSql: createTrigger(tr, shadow.table, name, cols, w),
    })
  }
  return gaps
}
