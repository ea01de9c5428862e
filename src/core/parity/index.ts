/**
 * Schema parity: what the shadow table lacks that the legacy table has and
 * the application relies on (grants, row-level security, policies, triggers,
 * foreign keys both ways, checks, owned sequences, unique keys), each with the
 * SQL that would add it. Objects are matched by meaning (columns translated
 * through the mapping), never by name.
 */
import type {
  ForeignKeyFact, GrantFact, PolicyFact, TableFacts, TriggerFact, UniqueIndexFact,
} from './facts.js'
import { displayName, quoteIdent, quoteLiteral, quoteQualified, type QualifiedName } from '../identifiers.js'
import { expressionKey, tokenize, translateExpression, type Translated } from '../sql-tokens.js'

export const PARITY_ITEMS = ['unique_index', 'check', 'foreign_key_out', 'foreign_key_in', 'sequence', 'trigger', 'grant', 'policy', 'rls'] as const
/** One kind of object the shadow must have; the order above is the order fixes are applied in. */
export type ParityItem = (typeof PARITY_ITEMS)[number]

/** One thing the shadow lacks. */
export interface ParityGap {
  readonly item: ParityItem
  /** What is missing, as an operator names it (a role, a constraint, a column). */
  readonly object: string
  readonly description: string
  /** The exact SQL that adds it, or null when a person must write it. */
  readonly fixSql: string | null
}

export interface ParityInput {
  readonly legacy: TableFacts
  readonly shadow: TableFacts
  /** Legacy column → the shadow column it is copied to unchanged (a plain copy or rename). */
  readonly columns: ReadonlyMap<string, string>
  /** The migration's key on each side (legacy.key[i] is carried to shadow.key[i], even when not a plain copy). */
  readonly keys?: { readonly legacy: readonly string[]; readonly shadow: readonly string[] }
}

const literal = quoteLiteral
const roleSql = (role: string | null): string => (role === null ? 'PUBLIC' : quoteIdent(role))
const roleName = (role: string | null): string => (role === null ? 'PUBLIC' : role)
const regclass = (table: QualifiedName): string => `${literal(quoteQualified(table))}::regclass`

/** A name not in `taken`, at most 63 bytes. */
function freeName(name: string, taken: Iterable<string>): string {
  const used = new Set(taken)
  const fit = (base: string, suffix: string) => {
    let b = base
    while (Buffer.byteLength(b + suffix) > 63) b = b.slice(0, -1)
    return b + suffix
  }
  let candidate = fit(name, '')
  for (let i = 1; used.has(candidate); i++) candidate = fit(name, i === 1 ? '_shadow' : `_shadow${i}`)
  return candidate
}

class Translator {
  readonly legacyName: string
  constructor(readonly input: ParityInput) {
    this.legacyName = input.legacy.table.name
  }

  expression(text: string, qualifiers?: readonly string[]): Translated | { untranslatable: string } {
    return translateExpression(text, {
      columns: this.input.columns,
      knownColumns: new Set(this.input.legacy.columns),
      ...(qualifiers ? { qualifiers } : {}),
      tableName: this.legacyName,
    })
  }

  columnList(columns: readonly string[]): string[] | { untranslatable: string } {
    const out: string[] = []
    for (const c of columns) {
      const target = this.input.columns.get(c)
      if (target === undefined) return { untranslatable: c }
      out.push(target)
    }
    return out
  }
}

const isUntranslatable = (x: object): x is { untranslatable: string } => 'untranslatable' in x

function byPerson(column: string, shadow: QualifiedName, kind: string, name: string): string {
  return `it uses legacy column "${column}", which the mapping does not copy as a plain column, so a person must write the ${kind} for ${displayName(shadow)} ` +
    `(under the same name "${name}", so this check sees it was done)`
}

function grantGaps(input: ParityInput): ParityGap[] {
  const { legacy, shadow, columns } = input
  const gaps: ParityGap[] = []
  const shadowTable = quoteQualified(shadow.table)
  const has = (g: GrantFact, column: string | null, needGrantOption: boolean) => shadow.grants.some((s) =>
    s.grantee === g.grantee && s.privilege === g.privilege && (s.column === null || s.column === column) && (!needGrantOption || s.isGrantable))
  const grantees = [...new Set(legacy.grants.map((g) => g.grantee))]
  for (const grantee of grantees) {
    const mine = legacy.grants.filter((g) => g.grantee === grantee)
    const tableMissing = mine.filter((g) => g.column === null && !has(g, null, g.isGrantable))
    if (tableMissing.length > 0) {
      const statements: string[] = []
      for (const withOption of [false, true]) {
        const privileges = tableMissing.filter((g) => g.isGrantable === withOption).map((g) => g.privilege)
        if (privileges.length > 0) statements.push(`GRANT ${privileges.join(', ')} ON TABLE ${shadowTable} TO ${roleSql(grantee)}${withOption ? ' WITH GRANT OPTION' : ''}`)
      }
      gaps.push({
        item: 'grant',
        object: roleName(grantee),
        description: `role ${roleName(grantee)} has ${tableMissing.map((g) => g.privilege + (g.isGrantable ? ' (with grant option)' : '')).join(', ')} on ${displayName(legacy.table)} but not on ${displayName(shadow.table)}`,
        fixSql: statements.join(';\n'),
      })
    }
    const columnMissing = mine.filter((g) => g.column !== null && !has(g, columns.get(g.column) ?? null, g.isGrantable))
    if (columnMissing.length > 0) {
      const unmapped = columnMissing.find((g) => !columns.has(g.column as string))?.column
      gaps.push({
        item: 'grant',
        object: `${roleName(grantee)} (columns)`,
        description: `role ${roleName(grantee)} has ${columnMissing.map((g) => `${g.privilege} (${g.column as string})`).join(', ')} on ${displayName(legacy.table)} but not on ${displayName(shadow.table)}` +
          (unmapped ? `; legacy column "${unmapped}" has no plain copy on the shadow, so a person must write the grant` : ''),
        fixSql: unmapped ? null : columnMissing.map((g) =>
          `GRANT ${g.privilege} (${quoteIdent(columns.get(g.column as string) as string)}) ON TABLE ${shadowTable} TO ${roleSql(grantee)}${g.isGrantable ? ' WITH GRANT OPTION' : ''}`).join(';\n'),
      })
    }
  }
  return gaps
}

function rlsGaps({ legacy, shadow }: ParityInput): ParityGap[] {
  const gaps: ParityGap[] = []
  const table = quoteQualified(shadow.table)
  if (legacy.rowSecurity && !shadow.rowSecurity) {
    gaps.push({ item: 'rls', object: 'row level security', description: `row level security is enabled on ${displayName(legacy.table)} but not on ${displayName(shadow.table)}`, fixSql: `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY` })
  }
  if (legacy.forceRowSecurity && !shadow.forceRowSecurity) {
    gaps.push({ item: 'rls', object: 'forced row level security', description: `row level security is forced (applies to the owner too) on ${displayName(legacy.table)} but not on ${displayName(shadow.table)}`, fixSql: `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY` })
  }
  return gaps
}

function policyMeaning(p: PolicyFact, using: string | null, withCheck: string | null): string {
  return [p.command, p.isPermissive, [...p.roles].map(roleName).sort().join(','), using ?? '', withCheck ?? ''].join('\u0002')
}

function policyGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, shadow } = input
  const shadowMeanings = new Set(shadow.policies.map((p) => policyMeaning(p, p.using === null ? null : expressionKey(p.using), p.withCheck === null ? null : expressionKey(p.withCheck))))
  const gaps: ParityGap[] = []
  for (const p of legacy.policies) {
    const using = p.using === null ? null : t.expression(p.using)
    const withCheck = p.withCheck === null ? null : t.expression(p.withCheck)
    const bad = [using, withCheck].find((x) => x !== null && isUntranslatable(x)) as { untranslatable: string } | undefined
    const object = p.name
    if (bad) {
      if (shadow.policies.some((s) => s.name === p.name)) continue
      gaps.push({ item: 'policy', object, description: `policy "${p.name}" of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}; ${byPerson(bad.untranslatable, shadow.table, 'policy', p.name)}`, fixSql: null })
      continue
    }
    const u = using as Translated | null
    const w = withCheck as Translated | null
    if (shadowMeanings.has(policyMeaning(p, u?.key ?? null, w?.key ?? null))) continue
    const name = freeName(p.name, shadow.policies.map((s) => s.name))
    const sql = `CREATE POLICY ${quoteIdent(name)} ON ${quoteQualified(shadow.table)} AS ${p.isPermissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${p.command} TO ${p.roles.map(roleSql).join(', ')}` +
      (u ? ` USING (${u.sql})` : '') + (w ? ` WITH CHECK (${w.sql})` : '')
    gaps.push({ item: 'policy', object, description: `policy "${p.name}" (${p.command} for ${p.roles.map(roleName).join(', ')}) of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}`, fixSql: sql })
  }
  return gaps
}

/** The WHEN condition inside a trigger definition, without its outer parentheses. */
export function triggerWhen(definition: string): string | null {
  const tokens = tokenize(definition)
  const each = tokens.findIndex((tok, i) => tok.kind === 'ident' && !tok.quoted && tok.value === 'for' && tokens[i + 1]?.kind === 'ident' && tokens[i + 1]?.text.toLowerCase() === 'each')
  const when = tokens[each + 3]
  if (each < 0 || when?.kind !== 'ident' || when.quoted || when.value !== 'when' || tokens[each + 4]?.text !== '(') return null
  let depth = 0
  for (let i = each + 4; i < tokens.length; i++) {
    const text = tokens[i]?.text
    if (text === '(') depth++
    if (text === ')' && --depth === 0) {
      const open = tokens[each + 4] as { start: number }
      return definition.slice(open.start + 1, (tokens[i] as { start: number }).start)
    }
  }
  return null
}

function triggerMeaning(tr: TriggerFact, updateColumns: readonly string[], when: string | null): string {
  return [tr.timing, [...tr.events].sort().join(','), [...updateColumns].sort().join(','), tr.isRow, when ?? '', tr.functionOid, tr.args.join('\u0003'),
    tr.oldTable !== null, tr.newTable !== null, tr.isConstraint, tr.isDeferrable, tr.isInitiallyDeferred, tr.constraintTable ?? ''].join('\u0002')
}

function triggerGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, shadow, columns } = input
  const gaps: ParityGap[] = []
  // A legacy column that is not on the shadow under the same name: a function body naming it was written for legacy.
  const moved = new Set(legacy.columns.filter((c) => columns.get(c) !== c))
  const shadowMeaning = (tr: TriggerFact) => {
    return triggerMeaning(tr, tr.updateColumns, tr.when === null ? null : expressionKey(tr.when))
  }
  for (const tr of legacy.triggers) {
    if (!tr.isEnabled) continue
    const updateColumns = t.columnList(tr.updateColumns)
    const when = tr.when === null ? null : t.expression(tr.when, ['new', 'old'])
    const fromFunction = tokenize(tr.functionSource).flatMap((tok) => (tok.kind === 'ident' && moved.has(tok.value) ? [tok.value] : []))[0] ??
      tr.args.find((a) => moved.has(a))
    const bad = isUntranslatable(updateColumns) ? updateColumns.untranslatable : when !== null && isUntranslatable(when) ? when.untranslatable : undefined
    if (bad !== undefined || fromFunction !== undefined) {
      if (shadow.triggers.some((s) => s.name === tr.name && s.isEnabled)) continue
      const why = fromFunction !== undefined
        ? `its function ${tr.functionName} was written for the legacy columns (it names "${fromFunction}", which the shadow does not have under that name), so a person must write a trigger function for ${displayName(shadow.table)} and create the trigger there (under the same name "${tr.name}", so this check sees it was done)`
        : byPerson(bad as string, shadow.table, 'trigger', tr.name)
      gaps.push({ item: 'trigger', object: tr.name, description: `trigger "${tr.name}" of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}; ${why}`, fixSql: null })
      continue
    }
    const cols = updateColumns as string[]
    const w = when as Translated | null
    const meaning = triggerMeaning(tr, cols, w?.key ?? null)
    if (shadow.triggers.some((s) => s.isEnabled && shadowMeaning(s) === meaning)) continue
    const disabled = shadow.triggers.find((s) => !s.isEnabled && shadowMeaning(s) === meaning)
    if (disabled) {
      gaps.push({ item: 'trigger', object: tr.name, description: `trigger "${tr.name}" of ${displayName(legacy.table)} matches trigger "${disabled.name}" of ${displayName(shadow.table)}, which is disabled`, fixSql: `ALTER TABLE ${quoteQualified(shadow.table)} ENABLE TRIGGER ${quoteIdent(disabled.name)}` })
      continue
    }
    const name = freeName(tr.name, shadow.triggers.map((s) => s.name))
    const events = tr.events.map((e) => (e === 'UPDATE' && cols.length > 0 ? `UPDATE OF ${cols.map(quoteIdent).join(', ')}` : e)).join(' OR ')
    const referencing = tr.oldTable !== null || tr.newTable !== null
      ? ` REFERENCING${tr.oldTable !== null ? ` OLD TABLE AS ${quoteIdent(tr.oldTable)}` : ''}${tr.newTable !== null ? ` NEW TABLE AS ${quoteIdent(tr.newTable)}` : ''}` : ''
    const constraint = tr.isConstraint
      ? `${tr.constraintTable !== null ? ` FROM ${tr.constraintTable}` : ''}${tr.isDeferrable ? ' DEFERRABLE' : ' NOT DEFERRABLE'}${tr.isInitiallyDeferred ? ' INITIALLY DEFERRED' : ' INITIALLY IMMEDIATE'}` : ''
    const sql = `CREATE ${tr.isConstraint ? 'CONSTRAINT ' : ''}TRIGGER ${quoteIdent(name)} ${tr.timing} ${events} ON ${quoteQualified(shadow.table)}${constraint}${referencing}` +
      ` FOR EACH ${tr.isRow ? 'ROW' : 'STATEMENT'}${w ? ` WHEN (${w.sql})` : ''} EXECUTE FUNCTION ${tr.functionName}(${tr.args.map(literal).join(', ')})`
    gaps.push({ item: 'trigger', object: tr.name, description: `trigger "${tr.name}" (${tr.timing} ${tr.events.join(' OR ')} → ${tr.functionName}) of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}`, fixSql: sql })
  }
  return gaps
}

function checkGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, shadow } = input
  const shadowKeys = new Set(shadow.checks.map((c) => `${c.isNoInherit}\u0002${expressionKey(c.expression)}`))
  const gaps: ParityGap[] = []
  for (const c of legacy.checks) {
    const translated = t.expression(c.expression)
    if (isUntranslatable(translated)) {
      if (shadow.checks.some((s) => s.name === c.name)) continue
      gaps.push({ item: 'check', object: c.name, description: `check constraint "${c.name}" ${c.expression} of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}; ${byPerson(translated.untranslatable, shadow.table, 'check constraint', c.name)}`, fixSql: null })
      continue
    }
    if (shadowKeys.has(`${c.isNoInherit}\u0002${translated.key}`)) continue
    const table = quoteQualified(shadow.table)
    const name = quoteIdent(freeName(c.name, shadow.constraintNames))
    const add = `ALTER TABLE ${table} ADD CONSTRAINT ${name} CHECK (${translated.sql})${c.isNoInherit ? ' NO INHERIT' : ''} NOT VALID`
    gaps.push({
      item: 'check', object: c.name,
      description: `check constraint "${c.name}" ${c.expression} of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}`,
      fixSql: c.isValidated ? `${add};\nALTER TABLE ${table} VALIDATE CONSTRAINT ${name}` : add,
    })
  }
  return gaps
}

function fkMeaning(fk: ForeignKeyFact, columns: readonly string[], refTableOid: number, refColumns: readonly string[]): string {
  const pairs = columns.map((c, i) => `${c}\u0003${refColumns[i] ?? ''}`).sort()
  return [fk.tableOid, refTableOid, pairs.join(','), fk.onUpdate, fk.onDelete, fk.match, fk.isDeferrable, fk.isInitiallyDeferred].join('\u0002')
}

function fkClause(columns: readonly string[], refTable: QualifiedName, refColumns: readonly string[], fk: ForeignKeyFact): string {
  return `FOREIGN KEY (${columns.map(quoteIdent).join(', ')}) REFERENCES ${quoteQualified(refTable)} (${refColumns.map(quoteIdent).join(', ')})` +
    `${fk.match === 'FULL' ? ' MATCH FULL' : ''} ON UPDATE ${fk.onUpdate} ON DELETE ${fk.onDelete}` +
    `${fk.isDeferrable ? ` DEFERRABLE INITIALLY ${fk.isInitiallyDeferred ? 'DEFERRED' : 'IMMEDIATE'}` : ''}`
}

function addForeignKey(table: QualifiedName, name: string, clause: string): string {
  const t = quoteQualified(table)
  return `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(name)} ${clause} NOT VALID;\nALTER TABLE ${t} VALIDATE CONSTRAINT ${quoteIdent(name)}`
}

const describeFk = (fk: ForeignKeyFact): string =>
  `"${fk.name}" (${displayName(fk.table)} (${fk.columns.join(', ')}) → ${displayName(fk.refTable)} (${fk.refColumns.join(', ')}))`

function foreignKeyOutGaps(input: ParityInput, t: Translator): ParityGap[] {
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
      gaps.push({ item: 'foreign_key_out', object: fk.name, description: `foreign key ${describeFk(fk)} has no equivalent on ${displayName(shadow.table)}; ${byPerson(bad.untranslatable, shadow.table, 'foreign key', fk.name)}`, fixSql: null })
      continue
    }
    const cols = columns as string[]
    const refCols = refColumns as string[]
    const refTable = isSelf ? shadow.table : fk.refTable
    const refOid = isSelf ? shadow.oid : fk.refTableOid
    if (existing.has(fkMeaning({ ...fk, tableOid: shadow.oid }, cols, refOid, refCols))) continue
    const name = freeName(fk.name, shadow.constraintNames)
    gaps.push({
      item: 'foreign_key_out', object: fk.name,
      description: `foreign key ${describeFk(fk)} has no equivalent on ${displayName(shadow.table)}`,
      fixSql: addForeignKey(shadow.table, name, fkClause(cols, refTable, refCols, fk)),
    })
  }
  return gaps
}

function foreignKeyInGaps(input: ParityInput, t: Translator): ParityGap[] {
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
        item: 'foreign_key_in', object,
        description: `foreign key ${describeFk(fk)} references the legacy table; ${displayName(fk.table)} needs an equivalent foreign key referencing ${displayName(shadow.table)}, ` +
          `but it references legacy column "${refColumns.untranslatable}", which the mapping does not copy as a plain column, so a person must write it (named "${personal}", so this check sees it was done)`,
        fixSql: null,
      })
      continue
    }
    if (existing.has(fkMeaning(fk, fk.columns, shadow.oid, refColumns))) continue
    const name = freeName(`${fk.name}_shadow`, fk.tableConstraintNames)
    const hasKey = shadow.uniqueIndexes.some((ix) => ix.predicate === null && sameSet(ix.keys.map(expressionKey), refColumns.map((c) => expressionKey(quoteIdent(c)))))
    gaps.push({
      item: 'foreign_key_in', object,
      description: `foreign key ${describeFk(fk)} references the legacy table; ${displayName(fk.table)} needs an equivalent foreign key referencing ${displayName(shadow.table)} (${refColumns.join(', ')})` +
        (hasKey ? '' : `, which first needs a unique key on ${displayName(shadow.table)} (${refColumns.join(', ')}) (see the unique_index gap)`),
      fixSql: addForeignKey(fk.table, name, fkClause(fk.columns, shadow.table, refColumns, fk)),
    })
  }
  return gaps
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\u0001') === [...b].sort().join('\u0001')
}

function indexMeaning(keys: readonly string[], predicate: string | null, ix: UniqueIndexFact): string {
  return [[...keys].sort().join('\u0003'), predicate ?? '', ix.isNullsNotDistinct].join('\u0002')
}

function uniqueIndexGaps(input: ParityInput, t: Translator): ParityGap[] {
  const { legacy, shadow } = input
  const existing = new Set(shadow.uniqueIndexes.map((ix) => indexMeaning(ix.keys.map(expressionKey), ix.predicate === null ? null : expressionKey(ix.predicate), ix)))
  const shadowHasPrimary = shadow.uniqueIndexes.some((ix) => ix.isPrimary)
  const gaps: ParityGap[] = []
  const columnKeys = (columns: readonly string[]) => columns.map((c) => expressionKey(quoteIdent(c)))
  const isMigrationKey = (ix: UniqueIndexFact, columns: readonly string[]) =>
    ix.predicate === null && columns.length > 0 && sameSet(ix.keys.map(expressionKey), columnKeys(columns))
  const shadowHasKey = input.keys !== undefined && shadow.uniqueIndexes.some((s) => isMigrationKey(s, input.keys?.shadow ?? []))
  for (const ix of legacy.uniqueIndexes) {
    // The migration's own key: the shadow's unique key on its key columns is the equivalent, whatever the mapping does to the values.
    if (shadowHasKey && isMigrationKey(ix, input.keys?.legacy ?? [])) continue
    const keys = ix.keys.map((k) => t.expression(k))
    const predicate = ix.predicate === null ? null : t.expression(ix.predicate)
    const bad = [...keys, predicate].find((k) => k !== null && isUntranslatable(k)) as { untranslatable: string } | undefined
    const what = `${ix.isPrimary ? 'primary key' : ix.isConstraint ? 'unique constraint' : 'unique index'} "${ix.name}" (${ix.keys.join(', ')})${ix.predicate ? ` WHERE ${ix.predicate}` : ''}`
    if (bad) {
      // Index names are unique per schema, so a person's own index is recognised by this name.
      const personal = `${ix.name}_shadow`
      if (shadow.uniqueIndexes.some((s) => s.name === personal)) continue
      gaps.push({ item: 'unique_index', object: ix.name, description: `${what} of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)}; ${byPerson(bad.untranslatable, shadow.table, 'unique index', ix.name).replace(/under the same name "[^"]*"/, `named "${personal}"`)}`, fixSql: null })
      continue
    }
    const translated = keys as Translated[]
    const pred = predicate as Translated | null
    if (existing.has(indexMeaning(translated.map((k) => k.key), pred?.key ?? null, ix))) continue
    const table = quoteQualified(shadow.table)
    const isPlain = translated.every((k) => tokenize(k.sql).length === 1)
    const keySql = translated.map((k) => (tokenize(k.sql).length === 1 ? k.sql : `(${k.sql})`)).join(', ')
    const nulls = ix.isNullsNotDistinct ? ' NULLS NOT DISTINCT' : ''
    const sql = ix.isPrimary && !shadowHasPrimary
      ? `ALTER TABLE ${table} ADD PRIMARY KEY (${keySql})`
      : ix.isConstraint && isPlain && pred === null
        ? `ALTER TABLE ${table} ADD UNIQUE${nulls} (${keySql})`
        : `CREATE UNIQUE INDEX ON ${table} USING ${quoteIdent(ix.method)} (${keySql})${nulls}${pred ? ` WHERE (${pred.sql})` : ''}`
    gaps.push({ item: 'unique_index', object: ix.name, description: `${what} of ${displayName(legacy.table)} has no equivalent on ${displayName(shadow.table)} (building it blocks writes to the shadow while it runs)`, fixSql: sql })
  }
  return gaps
}

function sequenceGaps(input: ParityInput): ParityGap[] {
  const { legacy, shadow, columns } = input
  const gaps: ParityGap[] = []
  for (const seq of legacy.sequences) {
    const object = `${seq.column} (${displayName(seq.sequence)})`
    const target = columns.get(seq.column)
    if (target === undefined) {
      const covered = shadow.sequences.some((s) => seq.lastValue === null || (s.lastValue !== null && BigInt(s.lastValue) >= BigInt(seq.lastValue)))
      if (covered) continue
      gaps.push({ item: 'sequence', object, description: `legacy column "${seq.column}" owns sequence ${displayName(seq.sequence)} (last value ${seq.lastValue ?? 'none'}), but the mapping does not copy it as a plain column, ` +
        `so a person must decide which shadow column needs a sequence (once a column of ${displayName(shadow.table)} owns one at or past ${seq.lastValue ?? 'its start'}, this check is satisfied)`, fixSql: null })
      continue
    }
    const mine = shadow.sequences.find((s) => s.column === target)
    const legacyValue = `(SELECT last_value FROM ${quoteQualified(seq.sequence)})`
    const table = quoteQualified(shadow.table)
    if (!mine) {
      const setval = (seqExpr: string) => seq.lastValue === null ? '' : `;\nSELECT setval(${seqExpr}, ${legacyValue})`
      const serialName: QualifiedName = { schema: shadow.table.schema, name: freeName(`${shadow.table.name}_${target}_seq`, []) }
      const sql = seq.isIdentity
        ? `ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(target)} ADD GENERATED BY DEFAULT AS IDENTITY${setval(`pg_get_serial_sequence(${literal(quoteQualified(shadow.table))}, ${literal(target)})`)}`
        : `CREATE SEQUENCE ${quoteQualified(serialName)} OWNED BY ${table}.${quoteIdent(target)};\n` +
          `ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(target)} SET DEFAULT nextval(${regclass(serialName)})${setval(regclass(serialName))}`
      gaps.push({ item: 'sequence', object, description: `legacy column "${seq.column}" owns ${seq.isIdentity ? 'an identity' : 'a'} sequence (${displayName(seq.sequence)}, last value ${seq.lastValue ?? 'none'}); shadow column "${target}" owns none`, fixSql: sql })
      continue
    }
    if (seq.lastValue === null || !seq.isReadable || !mine.isReadable) continue
    if (mine.lastValue !== null && BigInt(mine.lastValue) >= BigInt(seq.lastValue)) continue
    gaps.push({
      item: 'sequence', object,
      description: `sequence ${displayName(mine.sequence)} of shadow column "${target}" is at ${mine.lastValue ?? 'its start (never used)'}, behind legacy's ${displayName(seq.sequence)} at ${seq.lastValue}: new shadow rows would reuse keys`,
      fixSql: `SELECT setval(${regclass(mine.sequence)}, greatest(${legacyValue}, (SELECT last_value FROM ${quoteQualified(mine.sequence)})))`,
    })
  }
  return gaps
}

/** Privileges on the legacy table's owned sequences that the shadow's lack (inserts need USAGE on them). */
function sequenceGrantGaps(input: ParityInput): ParityGap[] {
  const gaps: ParityGap[] = []
  for (const seq of input.legacy.sequences) {
    const target = input.columns.get(seq.column)
    const mine = input.shadow.sequences.find((s) => s.column === target)
    if (!mine) continue
    const missing = (g: GrantFact) => !mine.grants.some((s) => s.grantee === g.grantee && s.privilege === g.privilege && (!g.isGrantable || s.isGrantable))
    for (const grantee of [...new Set(seq.grants.map((g) => g.grantee))]) {
      const lacking = seq.grants.filter((g) => g.grantee === grantee && missing(g))
      if (lacking.length === 0) continue
      gaps.push({
        item: 'grant', object: `${roleName(grantee)} on sequence ${displayName(mine.sequence)}`,
        description: `role ${roleName(grantee)} has ${lacking.map((g) => g.privilege).join(', ')} on sequence ${displayName(seq.sequence)} but not on ${displayName(mine.sequence)}`,
        fixSql: `GRANT ${lacking.map((g) => g.privilege).join(', ')} ON SEQUENCE ${quoteQualified(mine.sequence)} TO ${roleSql(grantee)}`,
      })
    }
  }
  return gaps
}

/** Everything the shadow lacks, in the order fixes are applied (unique keys before the foreign keys that need them, policies before RLS). */
export function parityGaps(input: ParityInput): ParityGap[] {
  const t = new Translator(input)
  const gaps = [
    ...uniqueIndexGaps(input, t), ...checkGaps(input, t), ...foreignKeyOutGaps(input, t), ...foreignKeyInGaps(input, t),
    ...sequenceGaps(input), ...triggerGaps(input, t), ...grantGaps(input), ...sequenceGrantGaps(input), ...policyGaps(input, t), ...rlsGaps(input),
  ]
  return gaps.sort((a, b) => PARITY_ITEMS.indexOf(a.item) - PARITY_ITEMS.indexOf(b.item))
}

