/**
 * SQL for the comparable projection of a row in the shadow's shape: each
 * mapped shadow column cast to its type, normalised, and turned to text. JSON
 * columns become jsonb's text (its keys sorted): verify compares them as jsonb,
 * reads compare that text after canonicalising its numbers in Node
 * (core/json-text.ts), so key order and `1.0` vs `1` never differ, and no number
 * passes through a JavaScript double. Read comparison and verify judge
 * equality the same way.
 */
import { quoteIdent } from './identifiers.js'
import { normaliserSql, parseNormaliser } from './normalisers.js'

export interface ComparableColumn {
  readonly column: string
  readonly type: string
}

/** The column's value cast to its type and normalised (still typed: text only when the normaliser makes it text). */
function normalisedValue(expression: string, column: ComparableColumn, normaliser: string | undefined): string {
  const typed = `(${expression})::${column.type}`
  return normaliser ? normaliserSql(normaliser, typed) : typed
}

/** The comparable text (or JSON) of an already normalised value. */
function comparableOf(normalised: string, column: ComparableColumn): string {
  if (isJsonType(column.type)) return `to_jsonb(${normalised})`
  // -0 = 0 in SQL, but their text differs; compare floats as SQL does.
  if (/^(double precision|real)$/.test(column.type))
    return `(CASE WHEN (${normalised}) = 0 THEN '0' ELSE (${normalised})::text END)`
  return `(${normalised})::text`
}

/** What a read compares: the comparable text, JSON included (as jsonb text, never parsed into JavaScript numbers). */
function asComparable(expression: string, column: ComparableColumn, normaliser: string | undefined): string {
  const comparable = comparableOf(normalisedValue(expression, column, normaliser), column)
  return isJsonType(column.type) ? `(${comparable})::text` : comparable
}

/** Whether a column's comparable is JSON text whose numbers must be canonicalised before comparing. */
export function isJsonType(type: string): boolean {
  return /^jsonb?$/.test(type)
}

/** `expr AS "col"` items of the expected projection: forward expressions over legacy columns. */
export function expectedItems(
  columns: readonly (ComparableColumn & { expression: string })[],
  compare: Readonly<Record<string, string>>,
): string {
  return columns.map((c) => `${asComparable(c.expression, c, compare[c.column])} AS ${quoteIdent(c.column)}`).join(', ')
}

/** `expr AS "col"` items of the actual projection: the shadow row's own columns, qualified by `alias`. */
export function actualItems(
  columns: readonly ComparableColumn[],
  compare: Readonly<Record<string, string>>,
  alias: string,
): string {
  return columns
    .map((c) => `${asComparable(`${alias}.${quoteIdent(c.column)}`, c, compare[c.column])} AS ${quoteIdent(c.column)}`)
    .join(', ')
}

/** The key a legacy column's read-back value has in a comparable projection (the row as the caller receives it). */
export function readBackKey(column: string): string {
  return `read_back.${column}`
}

/**
 * `expr AS "read_back.col"` items: legacy-shaped values (a legacy row's own, or a shadow row's read back through
 * `backward`), qualified by `alias`, each normalised by its own normaliser (if any) and made comparable.
 */
export function readBackItems(
  columns: readonly (ComparableColumn & { normaliser?: string | undefined })[],
  alias: string,
): string {
  return columns
    .map(
      (c) =>
        `${asComparable(`${alias}.${quoteIdent(c.column)}`, c, c.normaliser)} AS ${quoteIdent(readBackKey(c.column))}`,
    )
    .join(', ')
}

// Types whose typed equality (`=`, NULL-safe through IS DISTINCT FROM) holds exactly when their comparable text
// is equal: the text output is one-to-one with the value. Floats: -0 = 0 and NaN = NaN in SQL, as comparableOf
// decides; integers, uuid, bool, bytea, dates and timestamps print each value one way; a numeric with a declared
// scale always prints that scale. jsonb is compared as JSON already. Not here, so compared as their comparable
// text: text types (their collation may be nondeterministic), unconstrained numeric (1.0 = 1.00 but prints
// differently), interval ('1 day' = '24 hours'), citext, arrays, composites, domains, enums, bit strings, json
// and anything else.
const TYPED_EQUALITY =
  /^(smallint|integer|bigint|boolean|uuid|bytea|date|jsonb|double precision|real|numeric\(\d+,\d+\)|timestamp(\(\d\))? with(out)? time zone)$/
const TIMESTAMP = /^timestamp(\(\d\))? with(out)? time zone$/

/** Whether verify may compare the column's normalised value typed, rather than its comparable text. */
function isTypedComparison(column: ComparableColumn, normaliser: string | undefined): boolean {
  const parsed = normaliser ? parseNormaliser(normaliser) : null
  if (!parsed) return TYPED_EQUALITY.test(column.type)
  switch (parsed.kind) {
    case 'trim':
    case 'lower':
      return false
    case 'numeric':
      // round(x, N) always carries scale N, so equal values print alike.
      return true
    case 'timestamp_ms':
    case 'timestamp_s':
      return TIMESTAMP.test(column.type)
  }
}

/**
 * Verify's per-column SQL. `expected` and `actual` are the normalised typed
 * values of the forward expression over the legacy row and of the shadow's
 * column (selected once per row on each side); `key` is what
 * `ROW(...) IS DISTINCT FROM ROW(...)` compares, equal exactly when the
 * comparable text of `expectedItems` and `actualItems` is equal, but typed
 * wherever that is the same judgement (no text built); otherwise that text
 * under the "C" collation (byte equality, as the JSON comparison of the read
 * path), or that JSON; `comparable` is the text (or JSON) of a value, built
 * only for the rows that differ, to record them as the read comparison does.
 */
export interface VerifyColumnSql {
  readonly column: string
  readonly expected: string
  actual(alias: string): string
  key(value: string): string
  comparable(value: string): string
  /** The normalised typed value of a raw value (the forward expression's, or the shadow column's), as `expected`/`actual`. */
  normalise(raw: string): string
  /**
   * A cheap test on the raw values (before any cast or normaliser) that is true
   * only when their normalised values are certainly equal, so the full
   * comparison may be skipped; null for a column with no such test. False says
   * nothing: the row is judged in full.
   */
  sameRaw: ((expected: string, actual: string) => string) | null
}

// Base types (no type modifier) whose `=` holds only for values that are the same value with one representation, so a
// cast or a deterministic normaliser maps equal raw values to equal results.
const IDENTICAL_WHEN_EQUAL = /^(smallint|integer|bigint|boolean|uuid|bytea|date|timestamp with(out)? time zone)$/

/**
 * The raw test for a column of shadow type `type`: the forward expression's value cast to the type without its
 * modifier (no cast at all when it has that type already) `IS NOT DISTINCT FROM` the shadow's value. Only where that
 * equality implies equal normalised values: identity types, whatever the normaliser; numeric when the value is
 * rounded to a fixed scale afterwards (`numeric(p,s)` with no normaliser, or `numeric:N`), since numeric `=` ignores
 * only the display scale; jsonb compared as jsonb (no normaliser). Both NULL: equal, as they normalise alike; one NULL:
 * false, judged in full.
 */
function sameRawSql(
  column: ComparableColumn,
  normaliser: string | undefined,
): ((expected: string, actual: string) => string) | null {
  const base = column.type.replace(/\(\d+(,\d+)?\)/, '')
  const parsed = normaliser ? parseNormaliser(normaliser) : null
  const isEligible =
    IDENTICAL_WHEN_EQUAL.test(base) ||
    (base === 'numeric' && (parsed ? parsed.kind === 'numeric' : /^numeric\(\d+,\d+\)$/.test(column.type))) ||
    (base === 'jsonb' && !normaliser)
  return isEligible ? (expected, actual) => `(${expected})::${base} IS NOT DISTINCT FROM ${actual}` : null
}

/** One {@link VerifyColumnSql} per mapped column. */
export function verifyColumns(
  columns: readonly (ComparableColumn & { expression: string })[],
  compare: Readonly<Record<string, string>>,
): VerifyColumnSql[] {
  return columns.map((c) => {
    const normaliser = compare[c.column]
    const isTyped = isTypedComparison(c, normaliser)
    const isJson = isJsonType(c.type)
    return {
      column: c.column,
      expected: normalisedValue(c.expression, c, normaliser),
      actual: (alias) => normalisedValue(`${alias}.${quoteIdent(c.column)}`, c, normaliser),
      key: (value) => (isTyped ? value : isJson ? comparableOf(value, c) : `${comparableOf(value, c)} COLLATE "C"`),
      comparable: (value) => comparableOf(value, c),
      normalise: (raw) => normalisedValue(raw, c, normaliser),
      sameRaw: sameRawSql(c, normaliser),
    }
  })
}
