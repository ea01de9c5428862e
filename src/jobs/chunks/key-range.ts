/** A chunk's range of legacy keys, held as text values in key order so bigint and numeric keys stay exact. */

/** A key: one text value per legacy key column, in key order (as stored in the control schema's JSON arrays). */
export type KeyValues = readonly string[]

/**
 * Keys above `lower` (or from it, when `isLowerInclusive`: a job's first chunk)
 * up to `upper` inclusive, in the legacy key order.
 */
export interface KeyRange {
  readonly lower: KeyValues
  readonly isLowerInclusive: boolean
  readonly upper: KeyValues
}

export function isSameKey(a: KeyValues | null, b: KeyValues | null): boolean {
  if (a === null || b === null) return a === b
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/** `(5] to [90]` style text for logs and messages. */
export function describeRange(range: KeyRange): string {
  const show = (key: KeyValues): string => (key.length === 1 ? String(key[0]) : `(${key.join(', ')})`)
  return `${range.isLowerInclusive ? '[' : '('}${show(range.lower)} .. ${show(range.upper)}]`
}

/** Reads a key stored as a JSON array of text; anything else is a corrupt control row. */
export function keyFromJson(value: unknown): KeyValues | null {
  if (value === null || value === undefined) return null
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`control schema holds a malformed key ${JSON.stringify(value)}; expected a JSON array of text`)
  }
  return value as string[]
}
