/**
 * A small tokenizer for SQL expressions as PostgreSQL deparses them
 * (`pg_get_expr`, `pg_get_indexdef`, `pg_get_triggerdef`), so that column
 * references can be renamed and two expressions compared without caring how
 * their identifiers were quoted.
 */
import { quoteIdent, readQuotedIdentifier } from './identifiers.js'

export type SqlToken =
  | {
      readonly kind: 'ident'
      readonly value: string
      readonly quoted: boolean
      readonly text: string
      readonly start: number
    }
  | { readonly kind: 'other'; readonly text: string; readonly start: number }

// Keywords PostgreSQL prints bare that are never a column reference (a column with one of these names is printed quoted).
const RESERVED = new Set([
  'all',
  'and',
  'any',
  'array',
  'as',
  'asc',
  'between',
  'both',
  'case',
  'cast',
  'collate',
  'current_catalog',
  'current_date',
  'current_role',
  'current_schema',
  'current_time',
  'current_timestamp',
  'current_user',
  'default',
  'desc',
  'distinct',
  'else',
  'end',
  'false',
  'from',
  'ilike',
  'in',
  'is',
  'isnull',
  'like',
  'localtime',
  'localtimestamp',
  'not',
  'notnull',
  'null',
  'or',
  'overlaps',
  'session_user',
  'similar',
  'some',
  'symmetric',
  'then',
  'true',
  'user',
  'when',
  'time',
  'interval',
  'row',
  'exists',
  'select',
  'where',
  'limit',
  'with',
])

/** Unreserved keywords, which may also name a column unquoted: a keyword only next to the words they go with. */
function isContextKeyword(value: string, prev: string | undefined, next: string | undefined): boolean {
  switch (value) {
    case 'at':
      return next === 'time'
    case 'zone':
      return prev === 'time'
    case 'without':
      return next === 'time'
    case 'nulls':
      return next === 'first' || next === 'last'
    case 'first':
    case 'last':
      return prev === 'nulls'
    case 'unknown':
      return prev === 'is' || prev === 'not'
    default:
      return false
  }
}

const OPERATOR_CHARS = '+-*/<>=~!@#%^&|`?'

/** Splits `text` into identifiers (unquoted ones folded to lower case) and everything else. */
export function tokenize(text: string): SqlToken[] {
  const tokens: SqlToken[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (/\s/.test(c)) {
      i++
      continue
    }
    const start = i
    if (c === '"') {
      const quoted = readQuotedIdentifier(text, i)
      i = quoted.end
      tokens.push({ kind: 'ident', value: quoted.value, quoted: true, text: text.slice(start, i), start })
      continue
    }
    if (c === "'" || ((c === 'E' || c === 'e') && text[i + 1] === "'")) {
      const isEscape = c !== "'"
      i += isEscape ? 2 : 1
      while (i < text.length) {
        if (isEscape && text[i] === '\\') {
          i += 2
          continue
        }
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            i += 2
            continue
          }
          i++
          break
        }
        i++
      }
      tokens.push({ kind: 'other', text: text.slice(start, i), start })
      continue
    }
    if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))
      if (tag) {
        const end = text.indexOf(tag[0], i + tag[0].length)
        i = end < 0 ? text.length : end + tag[0].length
        tokens.push({ kind: 'other', text: text.slice(start, i), start })
        continue
      }
    }
    if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(text[i] as string)) i++
      const word = text.slice(start, i)
      tokens.push({ kind: 'ident', value: word.toLowerCase(), quoted: false, text: word, start })
      continue
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      while (i < text.length && /[0-9.eE]/.test(text[i] as string)) i++
      tokens.push({ kind: 'other', text: text.slice(start, i), start })
      continue
    }
    if (c === ':' && text[i + 1] === ':') {
      i += 2
      tokens.push({ kind: 'other', text: '::', start })
      continue
    }
    if (OPERATOR_CHARS.includes(c)) {
      while (i < text.length && OPERATOR_CHARS.includes(text[i] as string)) i++
      tokens.push({ kind: 'other', text: text.slice(start, i), start })
      continue
    }
    i++
    tokens.push({ kind: 'other', text: c, start })
  }
  return tokens
}

export interface TranslateOptions {
  /** Old column name → new column name; a column absent from this map cannot be translated. */
  readonly columns: ReadonlyMap<string, string>
  /** Every column of the table the expression is over (to tell a column from a function or keyword). */
  readonly knownColumns: ReadonlySet<string>
  /** Column references appear as `new.x` / `old.x` (a trigger's WHEN clause). */
  readonly qualifiers?: readonly string[]
  /** A name that, followed by `.`, qualifies a column of the table (the table's own name in a subquery). */
  readonly tableName?: string
}

/** Where each column reference is, and which column it names. */
function columnReferences(tokens: readonly SqlToken[], options: TranslateOptions): { index: number; column: string }[] {
  const refs: { index: number; column: string }[] = []
  for (const [index, token] of tokens.entries()) {
    if (token.kind !== 'ident') continue
    const next = tokens[index + 1]
    const prev = tokens[index - 1]
    const word = (t: SqlToken | undefined) => (t?.kind === 'ident' && !t.quoted ? t.value : undefined)
    if (!token.quoted && (RESERVED.has(token.value) || isContextKeyword(token.value, word(prev), word(next)))) continue
    if (next?.text === '(' || next?.text === '.' || prev?.text === '::') continue
    if (prev?.text === '.') {
      const qualifier = tokens[index - 2]
      if (qualifier?.kind !== 'ident' || !(options.qualifiers ?? []).includes(qualifier.value)) continue
    }
    if (options.knownColumns.has(token.value)) refs.push({ index, column: token.value })
  }
  return refs
}

/** True when the table's own name qualifies a column somewhere (a correlated subquery); such text is not renamed. */
function mentionsTable(tokens: readonly SqlToken[], tableName: string | undefined): boolean {
  if (tableName === undefined) return false
  return tokens.some((t, i) => t.kind === 'ident' && t.value === tableName && tokens[i + 1]?.text === '.')
}

/** An expression renamed into the other table's columns: its SQL text and its comparison key. */
export interface Translated {
  readonly sql: string
  readonly key: string
}

/**
 * The expression with every column reference renamed through `columns`
 * (the rest of the text kept as it was), or the first column that has no
 * plain rename.
 */
export function translateExpression(text: string, options: TranslateOptions): Translated | { untranslatable: string } {
  const tokens = tokenize(text)
  if (mentionsTable(tokens, options.tableName)) return { untranslatable: `${options.tableName ?? ''}.*` }
  const out = [...tokens]
  let sql = ''
  let at = 0
  for (const ref of columnReferences(tokens, options)) {
    const target = options.columns.get(ref.column)
    if (target === undefined) return { untranslatable: ref.column }
    const token = tokens[ref.index] as SqlToken
    const quoted = quoteIdent(target)
    sql += text.slice(at, token.start) + quoted
    at = token.start + token.text.length
    out[ref.index] = { kind: 'ident', value: target, quoted: true, text: quoted, start: token.start }
  }
  return { sql: sql + text.slice(at), key: tokensKey(out) }
}

/** The comparison key of an expression over a table's own columns, as the catalog prints it. */
export function expressionKey(text: string): string {
  return tokensKey(tokenize(text))
}

/** Tokens as a comparison key: identifiers by their exact name, other tokens by their text. */
export function tokensKey(tokens: readonly SqlToken[]): string {
  return tokens.map((t) => (t.kind === 'ident' ? `i:${t.value}` : `o:${t.text}`)).join('\u0001')
}
