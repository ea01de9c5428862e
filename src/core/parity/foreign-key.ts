/** What both foreign-key items share: a key's meaning (to match by), its SQL, and how it is described. */
import { displayName, quoteIdent, quoteQualified, type QualifiedName } from '../identifiers.js'
import type { ForeignKeyFact } from './facts.js'

/** What a foreign key does, whatever its name: the tables, column pairs, actions, match and deferral. */
export function fkMeaning(
  fk: ForeignKeyFact,
  columns: readonly string[],
  refTableOid: number,
  refColumns: readonly string[],
): string {
  const pairs = columns.map((c, i) => `${c}\u0003${refColumns[i] ?? ''}`).sort()
  return [
    fk.tableOid,
    refTableOid,
    pairs.join(','),
    fk.onUpdate,
    fk.onDelete,
    fk.match,
    fk.isDeferrable,
    fk.isInitiallyDeferred,
  ].join('\u0002')
}

export function fkClause(
  columns: readonly string[],
  refTable: QualifiedName,
  refColumns: readonly string[],
  fk: ForeignKeyFact,
): string {
  return (
    `FOREIGN KEY (${columns.map(quoteIdent).join(', ')}) ` +
    `REFERENCES ${quoteQualified(refTable)} (${refColumns.map(quoteIdent).join(', ')})` +
    `${fk.match === 'FULL' ? ' MATCH FULL' : ''} ON UPDATE ${fk.onUpdate} ON DELETE ${fk.onDelete}` +
    `${fk.isDeferrable ? ` DEFERRABLE INITIALLY ${fk.isInitiallyDeferred ? 'DEFERRED' : 'IMMEDIATE'}` : ''}`
  )
}

/** Adds the key NOT VALID, then validates it in a second statement. */
export function addForeignKey(table: QualifiedName, name: string, clause: string): string {
  const t = quoteQualified(table)
  return (
    `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(name)} ${clause} NOT VALID;\n` +
    `ALTER TABLE ${t} VALIDATE CONSTRAINT ${quoteIdent(name)}`
  )
}

export const describeFk = (fk: ForeignKeyFact): string =>
  `"${fk.name}" (${displayName(fk.table)} (${fk.columns.join(', ')}) → ` +
  `${displayName(fk.refTable)} (${fk.refColumns.join(', ')}))`
