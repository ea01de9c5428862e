/** Quoting and parsing of SQL identifiers: the one place a name from config becomes SQL text. */
import { ConfigInvalid } from './errors.js'

/** Quotes an identifier for PostgreSQL, doubling any `"` inside it. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new ConfigInvalid(undefined, 'an identifier cannot be empty')
  if (name.includes('\u0000')) throw new ConfigInvalid(undefined, 'an identifier cannot contain a NUL character')
  return `"${name.replaceAll('"', '""')}"`
}

/** A table named by schema and name, both exact (case and characters kept). */
export interface QualifiedName {
  readonly schema: string
  readonly name: string
}

/** `"schema"."name"`, quoted. */
export function quoteQualified(table: QualifiedName): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`
}

/** `schema.name` as an operator reads it (not for SQL). */
export function displayName(table: QualifiedName): string {
  return `${table.schema}.${table.name}`
}

/**
 * Reads the double-quoted identifier that starts at `text[start]` (a `"`), with
 * `""` for a quote inside: its value, the index just past its closing quote
 * (or the end of `text`), and whether it was closed.
 */
export function readQuotedIdentifier(text: string, start: number): { value: string; end: number; closed: boolean } {
  let value = ''
  let i = start + 1
  while (i < text.length) {
    if (text[i] === '"') {
      if (text[i + 1] === '"') {
        value += '"'
        i += 2
        continue
      }
      return { value, end: i + 1, closed: true }
    }
    value += text[i]
    i++
  }
  return { value, end: i, closed: false }
}

/**
 * Parses `table`, `schema.table`, or either part double-quoted
 * (`"My Schema"."a.b"`, `""` for a quote inside). Parts are taken exactly as
 * written: no case folding. No schema means `public`.
 */
export function parseQualifiedName(text: string): QualifiedName | undefined {
  const parts: string[] = []
  let i = 0
  while (i <= text.length) {
    let part = ''
    if (text[i] === '"') {
      const quoted = readQuotedIdentifier(text, i)
      if (!quoted.closed) return undefined
      part = quoted.value
      i = quoted.end
    } else {
      while (i < text.length && text[i] !== '.') {
        if (text[i] === '"') return undefined
        part += text[i]
        i++
      }
    }
    if (part.length === 0) return undefined
    parts.push(part)
    if (i === text.length) break
    if (text[i] !== '.') return undefined
    i++
    if (i === text.length) return undefined
  }
  if (parts.length === 1) return { schema: 'public', name: parts[0] as string }
  if (parts.length === 2) return { schema: parts[0] as string, name: parts[1] as string }
  return undefined
}

/** A SQL string literal of `text` (single quotes doubled; standard_conforming_strings is on since PostgreSQL 9.1). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}
