/** Unique keys: primary keys, unique constraints and unique indexes of the legacy table missing on the shadow. */
import { displayName, quoteIdent, quoteQualified } from '../identifiers.js'
import { expressionKey, tokenize, type Translated } from '../sql-tokens.js'
import type { UniqueIndexFact } from './facts.js'
import { byPerson, sameSet } from './naming.js'
import type { ParityGap, ParityInput } from './parity-gap.js'
import { isUntranslatable, type Translator, type Untranslatable } from './translator.js'

function indexMeaning(keys: readonly string[], predicate: string | null, ix: UniqueIndexFact): string {
  return [[...keys].sort().join('\u0003'), predicate ?? '', ix.isNullsNotDistinct].join('\u0002')
}

export function uniqueIndexGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, shadow } = input
  const existing = new Set(
    shadow.uniqueIndexes.map((ix) =>
      indexMeaning(ix.keys.map(expressionKey), ix.predicate === null ? null : expressionKey(ix.predicate), ix),
    ),
  )
  const shadowHasPrimary = shadow.uniqueIndexes.some((ix) => ix.isPrimary)
  const gaps: ParityGap[] = []
  const columnKeys = (columns: readonly string[]) => columns.map((c) => expressionKey(quoteIdent(c)))
  const isMigrationKey = (ix: UniqueIndexFact, columns: readonly string[]) =>
    ix.predicate === null && columns.length > 0 && sameSet(ix.keys.map(expressionKey), columnKeys(columns))
  const shadowHasKey =
    input.keys !== undefined && shadow.uniqueIndexes.some((s) => isMigrationKey(s, input.keys?.shadow ?? []))
  for (const ix of legacy.uniqueIndexes) {
    // The migration's own key: the shadow's unique key on its key columns is the equivalent, whatever the mapping
    // does to the values.
    if (shadowHasKey && isMigrationKey(ix, input.keys?.legacy ?? [])) continue
    const keys = ix.keys.map((k) => t.expression(k))
    const predicate = ix.predicate === null ? null : t.expression(ix.predicate)
    const bad = [...keys, predicate].find((k) => k !== null && isUntranslatable(k)) as Untranslatable | undefined
    const kind = ix.isPrimary ? 'primary key' : ix.isConstraint ? 'unique constraint' : 'unique index'
    const what = `${kind} "${ix.name}" (${ix.keys.join(', ')})${ix.predicate ? ` WHERE ${ix.predicate}` : ''}`
    if (bad) {
      // Index names are unique per schema, so a person's own index is recognised by this name.
      const personal = `${ix.name}_shadow`
      if (shadow.uniqueIndexes.some((s) => s.name === personal)) continue
      const why = byPerson(bad.untranslatable, shadow.table, 'unique index', ix.name).replace(
        /under the same name "[^"]*"/,
        `named "${personal}"`,
      )
      gaps.push({
        item: 'unique_index',
        object: ix.name,
        description:
          `${what} of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}; ` + why,
        fixSql: null,
      })
      continue
    }
    const translated = keys as Translated[]
    const pred = predicate as Translated | null
    if (
      existing.has(
        indexMeaning(
          translated.map((k) => k.key),
          pred?.key ?? null,
          ix,
        ),
      )
    )
      continue
    const table = quoteQualified(shadow.table)
    const isPlain = translated.every((k) => tokenize(k.sql).length === 1)
    const keySql = translated.map((k) => (tokenize(k.sql).length === 1 ? k.sql : `(${k.sql})`)).join(', ')
    const nulls = ix.isNullsNotDistinct ? ' NULLS NOT DISTINCT' : ''
    const sql =
      ix.isPrimary && !shadowHasPrimary
        ? `ALTER TABLE ${table} ADD PRIMARY KEY (${keySql})`
        : ix.isConstraint && isPlain && pred === null
          ? `ALTER TABLE ${table} ADD UNIQUE${nulls} (${keySql})`
          : `CREATE UNIQUE INDEX ON ${table} USING ${quoteIdent(ix.method)} (${keySql})${nulls}` +
            `${pred ? ` WHERE (${pred.sql})` : ''}`
    gaps.push({
      item: 'unique_index',
      object: ix.name,
      description:
        `${what} of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)} ` +
        '(building it blocks writes to the shadow while it runs)',
      fixSql: sql,
    })
  }
  return gaps
}
