/** Row hashes and column-level differences, over the canonical form of a row. */
import { createHash } from 'node:crypto'
import stableStringify from 'fast-json-stable-stringify'
import { canonicalJson, canonicalValue } from './canonical.js'

type Row = Readonly<Record<string, unknown>>

/**
 * A 128-bit hex digest (the first 32 hex characters of SHA-256) of the canonical JSON of
 * `row` projected onto `columns` (default: all of its keys). A listed column the row lacks
 * hashes as null. Equal data in any column or JSON key order gives the same hash.
 */
export function rowHash(row: Row, columns?: readonly string[]): string {
  const json = canonicalJson(project(row, columns ?? Object.keys(row)))
  return createHash('sha256').update(json, 'utf8').digest('hex').slice(0, 32)
}

/**
 * The columns whose canonical values differ between two rows, in the order of `columns`
 * (default: the keys of `a`, then those only in `b`). A column missing from a row counts as null.
 */
export function differingColumns(a: Row, b: Row, columns?: readonly string[]): string[] {
  const names = columns ?? [...new Set([...Object.keys(a), ...Object.keys(b)])]
  return names.filter((name) => canonicalText(a, name) !== canonicalText(b, name))
}

function project(row: Row, columns: readonly string[]): Record<string, unknown> {
  // A null prototype keeps a column named "__proto__" an ordinary key.
  const out = Object.create(null) as Record<string, unknown>
  for (const name of columns) out[name] = own(row, name)
  return out
}

function canonicalText(row: Row, name: string): string {
  return stableStringify(canonicalValue(own(row, name)))
}

/** Own properties only, so a column named "constructor" is not read from the prototype. */
function own(row: Row, name: string): unknown {
  return Object.hasOwn(row, name) ? row[name] : undefined
}
