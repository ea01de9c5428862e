/** One canonical, JSON-safe form for a row as node-postgres returns it, so equal data compares equal. */
import stableStringify from 'fast-json-stable-stringify'

/**
 * Two modes, chosen on purpose:
 * - column mode (a column value, or an element of a Postgres array column): numbers and
 *   bigints become decimal strings, because node-postgres returns int8 and numeric as
 *   strings and int4 and float8 as numbers, and `5` read from either must be equal;
 * - JSON mode (anything inside a plain object, i.e. parsed json/jsonb): values keep their
 *   JSON types, so `{"a":"5"}` and `{"a":5}` stay different; only `-0` becomes `0`.
 * The price: a json/jsonb column holding a bare top-level array (`[5]` vs `["5"]`) is read
 * in column mode, like an int4[]/int8[] column, and those two compare equal.
 */
type Mode = 'column' | 'json'

/**
 * Maps a value as node-postgres returns it to its canonical form: null for null and
 * undefined, decimal strings for numbers and bigints (`-0` → "0", "NaN", "Infinity",
 * "-Infinity"), ISO strings for dates ("Invalid Date" for an invalid one), `\x<hex>` for
 * bytes, arrays element by element, and plain objects (parsed JSON) recursively with
 * their JSON types kept. Key order is left to `canonicalJson`, which sorts.
 */
export function canonicalValue(v: unknown): unknown {
  return canonicalise(v, 'column')
}

/**
 * The canonical JSON text of a row: every column value canonicalised, keys sorted at
 * every depth, so neither column order nor JSON key order makes a difference.
 */
export function canonicalJson(row: Readonly<Record<string, unknown>>): string {
  return stableStringify(mapEntries(row, 'column'))
}

function canonicalise(v: unknown, mode: Mode): unknown {
  if (v === null || v === undefined) return null
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v
    case 'number':
      if (mode === 'column' || !Number.isFinite(v)) return String(v)
      return Object.is(v, -0) ? 0 : v
    case 'bigint':
      return v.toString()
    case 'object':
      return canonicaliseObject(v, mode)
    default:
      // Functions and symbols never come from node-postgres; a string keeps this total.
      return String(v)
  }
}

function canonicaliseObject(v: object, mode: Mode): unknown {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()
  if (v instanceof Uint8Array) return '\\x' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
  if (Array.isArray(v)) return v.map((element: unknown) => canonicalise(element, mode))
  const withJson = v as { toJSON?: unknown }
  if (typeof withJson.toJSON === 'function') return canonicalise((withJson.toJSON as () => unknown)(), mode)
  return mapEntries(v, 'json')
}

function mapEntries(v: object, mode: Mode): Record<string, unknown> {
  // A null prototype keeps a key named "__proto__" an ordinary key.
  const out = Object.create(null) as Record<string, unknown>
  for (const [key, value] of Object.entries(v)) out[key] = canonicalise(value, mode)
  return out
}
