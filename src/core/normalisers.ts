/** The closed set of comparison normalisers: two representations the business counts as equal. */

/** A normaliser spec as written in a migration's `compare` config, e.g. `"numeric:2"`. */
export type Normaliser = string

/** The kinds of normaliser; `numeric` carries a scale. */
export type NormaliserKind = 'timestamp_ms' | 'timestamp_s' | 'trim' | 'lower' | 'numeric'

/** A parsed normaliser spec. */
export interface ParsedNormaliser {
  readonly kind: NormaliserKind
  /** Decimal places kept by `numeric:N` (0..30); absent for the other kinds. */
  readonly scale?: number
}

/** The known normalisers, for error messages. */
export const NORMALISER_NAMES = 'timestamp_ms, timestamp_s, trim, lower, numeric:N'

const MAX_SCALE = 30
const SIMPLE: ReadonlySet<string> = new Set<NormaliserKind>(['timestamp_ms', 'timestamp_s', 'trim', 'lower'])
// Digits only: no sign, no exponent, no spaces, so the scale is safe to paste into SQL.
const NUMERIC = /^numeric:(\d{1,2})$/

/** Parses a normaliser spec; null when it is not one of {@link NORMALISER_NAMES}. */
export function parseNormaliser(spec: string): ParsedNormaliser | null {
  if (SIMPLE.has(spec)) return { kind: spec as NormaliserKind }
  const match = NUMERIC.exec(spec)
  if (!match) return null
  const scale = Number(match[1])
  return scale <= MAX_SCALE ? { kind: 'numeric', scale } : null
}

/** Whether a spec is one of {@link NORMALISER_NAMES}. */
export function isNormaliser(spec: string): spec is Normaliser {
  return parseNormaliser(spec) !== null
}

/**
 * Wraps an already-quoted SQL expression in the normaliser's SQL, so both sides of a
 * comparison are normalised by the server. Throws on an unknown spec, which config
 * validation should have refused first.
 */
export function normaliserSql(spec: Normaliser, sqlExpr: string): string {
  const parsed = parseNormaliser(spec)
  if (!parsed) throw new Error(`unknown normaliser "${spec}"; known: ${NORMALISER_NAMES}`)
  switch (parsed.kind) {
    case 'timestamp_ms':
      return `date_trunc('milliseconds', (${sqlExpr}))`
    case 'timestamp_s':
      return `date_trunc('second', (${sqlExpr}))`
    case 'trim':
      return `btrim((${sqlExpr})::text)`
    case 'lower':
      return `lower((${sqlExpr})::text)`
    case 'numeric':
      return `round((${sqlExpr})::numeric, ${parsed.scale})`
  }
}
