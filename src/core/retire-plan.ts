/**
 * The pure decisions of `cutover retire`: whether the migration may retire
 * now, what the legacy table is renamed to, and what becomes of each foreign
 * key of another table that references the legacy table.
 */
import { GateRefused, TransitionInvalid } from './errors.js'
import { displayName, quoteIdent, quoteQualified, type QualifiedName } from './identifiers.js'
import type { MappedColumn } from './mapping.js'
import type { Phase } from './phases.js'

/** A foreign key as the catalog describes it (pg_constraint), referencing the legacy or the shadow table. */
export interface ForeignKeyFacts {
  readonly name: string
  /** The referencing (child) table. */
  readonly table: QualifiedName
  readonly tableOid: number
  /** Child columns, in constraint order. */
  readonly columns: readonly string[]
  /** Referenced columns, pairwise with `columns`. */
  readonly referencedColumns: readonly string[]
  /** pg_constraint codes: a no action, r restrict, c cascade, n set null, d set default. */
  readonly onUpdate: string
  readonly onDelete: string
  /** f full, p partial, s simple. */
  readonly match: string
  readonly deferrable: boolean
  readonly deferred: boolean
  readonly validated: boolean
}

/** What retire does with one foreign key. */
export type ForeignKeyMove =
  | { readonly kind: 'move'; readonly fk: ForeignKeyFacts; readonly shadowColumns: readonly string[] }
  | {
      readonly kind: 'drop'
      readonly fk: ForeignKeyFacts
      readonly shadowColumns: readonly string[]
      readonly equivalent: string
    }
  | { readonly kind: 'refuse'; readonly fk: ForeignKeyFacts; readonly reason: string }

export interface RetireTiming {
  readonly phase: Phase
  /** When the migration entered `complete`. */
  readonly completeSince: Date | undefined
  readonly soakSeconds: number
  readonly now: Date
}

/** Throws TransitionInvalid unless complete; GateRefused while the retire soak runs. */
export function checkRetireGate(migration: string, timing: RetireTiming): void {
  if (timing.phase !== 'complete') {
    throw new TransitionInvalid(
      migration,
      `retire needs phase complete and the migration is in ${timing.phase}; finish the cutover first (cutover status ${migration})`,
    )
  }
  const since = timing.completeSince ?? timing.now
  const soaked = Math.max(0, (timing.now.getTime() - since.getTime()) / 1000)
  if (soaked < timing.soakSeconds) {
    throw new GateRefused(
      migration,
      'retire',
      `complete for ${Math.floor(soaked)} s of the ${timing.soakSeconds} s retire soak (retireSoakSeconds)`,
      `wait ${Math.ceil(timing.soakSeconds - soaked)} s more, or override with: cutover retire ${migration} --force`,
    )
  }
}

/** `<name>_retired`, shortened to PostgreSQL's 63-byte identifier limit. */
export function retiredTableName(name: string): string {
  const suffix = '_retired'
  let base = name
  while (new TextEncoder().encode(base + suffix).length > 63) base = [...base].slice(0, -1).join('')
  return base + suffix
}

const VALUE_KEYWORDS = new Set([
  'user',
  'current_user',
  'session_user',
  'current_role',
  'current_catalog',
  'current_schema',
  'current_date',
  'current_time',
  'current_timestamp',
  'localtime',
  'localtimestamp',
  'null',
  'true',
  'false',
  'default',
])

/** The column an expression names when it is nothing but one column reference (`"Id"`, `id`), else undefined. */
export function plainColumnOf(expression: string): string | undefined {
  const text = expression.trim()
  const quoted = /^"((?:[^"]|"")+)"$/.exec(text)
  if (quoted) return (quoted[1] as string).replaceAll('""', '"')
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(text) && !VALUE_KEYWORDS.has(text.toLowerCase()))
    return text.replace(/[A-Z]/g, (c) => c.toLowerCase())
  return undefined
}

export interface MoveContext {
  /** The migration, for the command a refusal names. */
  readonly migration: string
  readonly shadow: QualifiedName
  /** The resolved backward mapping: legacy column → expression over shadow columns. */
  readonly backward: readonly MappedColumn[]
  readonly shadowColumns: ReadonlySet<string>
  /** Column lists of the shadow's primary key and plain unique indexes. */
  readonly shadowUniqueKeys: readonly (readonly string[])[]
  /** Foreign keys that already reference the shadow table. */
  readonly shadowForeignKeys: readonly ForeignKeyFacts[]
}

const ACTION_NAMES: Readonly<Record<string, string>> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
}
const MATCH_NAMES: Readonly<Record<string, string>> = { s: 'SIMPLE', f: 'FULL', p: 'PARTIAL' }
const deferral = (k: ForeignKeyFacts): string =>
  k.deferrable ? `DEFERRABLE INITIALLY ${k.deferred ? 'DEFERRED' : 'IMMEDIATE'}` : 'NOT DEFERRABLE'

/** How `other` acts differently from `fk` (`ON DELETE NO ACTION where this key has ON DELETE CASCADE`, …); empty when it acts the same. */
function optionDifferences(fk: ForeignKeyFacts, other: ForeignKeyFacts): string[] {
  const facets: [string, (k: ForeignKeyFacts) => string][] = [
    ['ON UPDATE', (k) => ACTION_NAMES[k.onUpdate] ?? k.onUpdate],
    ['ON DELETE', (k) => ACTION_NAMES[k.onDelete] ?? k.onDelete],
    ['MATCH', (k) => MATCH_NAMES[k.match] ?? k.match],
    ['', deferral],
  ]
  return facets.flatMap(([label, of]) => {
    const [mine, theirs] = [of(fk), of(other)]
    return mine === theirs
      ? []
      : [`${label ? `${label} ` : ''}${theirs} where this key has ${label ? `${label} ` : ''}${mine}`]
  })
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  [...a].sort().join('\u0000') === [...b].sort().join('\u0000')

/** Decides, for one foreign key referencing the legacy table, whether it can move to the shadow and how. */
export function planForeignKeyMove(fk: ForeignKeyFacts, ctx: MoveContext): ForeignKeyMove {
  const shadowColumns: string[] = []
  for (const legacyColumn of fk.referencedColumns) {
    const mapped = ctx.backward.find((m) => m.column === legacyColumn)
    const plain = mapped ? plainColumnOf(mapped.expression) : undefined
    if (!mapped || plain === undefined || !ctx.shadowColumns.has(plain)) {
      return {
        kind: 'refuse',
        fk,
        reason: `referenced legacy column "${legacyColumn}" has no plain column on the shadow (backward maps it as ${mapped ? mapped.expression : 'nothing'}); a foreign key can only reference plain columns`,
      }
    }
    shadowColumns.push(plain)
  }
  const sameColumns = ctx.shadowForeignKeys.filter(
    (other) =>
      other.tableOid === fk.tableOid &&
      other.columns.length === fk.columns.length &&
      other.columns.every(
        (c, i) => fk.columns.indexOf(c) >= 0 && shadowColumns[fk.columns.indexOf(c)] === other.referencedColumns[i],
      ),
  )
  const equivalent = sameColumns.find((other) => optionDifferences(fk, other).length === 0)
  if (equivalent) return { kind: 'drop', fk, shadowColumns, equivalent: equivalent.name }
  const differing = sameColumns[0]
  if (differing) {
    return {
      kind: 'refuse',
      fk,
      reason:
        `${displayName(differing.table)}.${differing.name} already references ${displayName(ctx.shadow)} (${shadowColumns.join(', ')}) from the same columns but with ` +
        `${optionDifferences(fk, differing).join(', ')}, so dropping this key for it would change what a write does; make that key match, or run cutover doctor ${ctx.migration} --apply to add one that does`,
    }
  }
  if (!ctx.shadowUniqueKeys.some((k) => sameSet(k, shadowColumns))) {
    return {
      kind: 'refuse',
      fk,
      reason: `no primary key or unique index on ${displayName(ctx.shadow)} (${shadowColumns.join(', ')}) for it to reference; add one: CREATE UNIQUE INDEX ON ${quoteQualified(ctx.shadow)} (${shadowColumns.map(quoteIdent).join(', ')})`,
    }
  }
  return { kind: 'move', fk, shadowColumns }
}

/** `public.order_lines.order_lines_order_id_fkey (order_id)`, as an operator reads it. */
export function describeForeignKey(fk: ForeignKeyFacts): string {
  return `${displayName(fk.table)}.${fk.name} (${fk.columns.join(', ')})`
}
