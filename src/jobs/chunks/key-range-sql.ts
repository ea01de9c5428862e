/** The key-order SQL that cuts a job's key range into chunks (keyset pagination with row comparison). */
import type { Statement } from '../../db/statement.js'
import { q, typeOf, type MigrationShape } from '../../shape/migration-shape.js'
import type { KeyRange, KeyValues } from './key-range.js'

/** Which keys a job walks: the legacy table's (backfill), or both tables' in legacy key order (verify). */
export type KeySpan = 'legacy' | 'both'

/** A table as a FROM item, with an SQL expression for each legacy key column over it. */
export interface KeySide {
  readonly from: string
  readonly refs: readonly string[]
}

/** The column alias of the i-th legacy key column in derived tables. */
export function keyAlias(i: number): string {
  return q(`__k${i}`)
}

export function keyTypes(shape: MigrationShape): string[] {
  return shape.legacyKey.map((k) => typeOf(shape.legacyColumns, k))
}

/** The legacy table as `lt`, keyed by its own key columns. */
export function legacySide(shape: MigrationShape): KeySide {
  return { from: `${shape.legacyTable} AS lt`, refs: shape.legacyKey.map((k) => `lt.${q(k)}`) }
}

/**
 * The shadow table as `st`, keyed by the legacy key computed through `backward`
 * (in a LATERAL `k`, where only the shadow's columns are in scope), cast to the
 * legacy key types.
 */
export function shadowSide(shape: MigrationShape): KeySide {
  const types = keyTypes(shape)
  const items = shape.legacyKey.map((k, i) => {
    const expression = shape.backward.find((m) => m.column === k)?.expression ?? q(k)
    return `(${expression})::${types[i]} AS ${keyAlias(i)}`
  })
  return {
    from: `${shape.shadowTable} AS st CROSS JOIN LATERAL (SELECT ${items.join(', ')}) AS k`,
    refs: shape.legacyKey.map((_, i) => `k.${keyAlias(i)}`),
  }
}

/** `(refs) > ($1::t, …) AND (refs) <= ($n+1::t, …)`: the range's lower key is $1..$n, its upper $n+1..$2n. */
export function rangePredicate(refs: readonly string[], types: readonly string[], isLowerInclusive: boolean): string {
  const n = types.length
  const lower = types.map((t, i) => `$${i + 1}::${t}`).join(', ')
  const upper = types.map((t, i) => `$${n + i + 1}::${t}`).join(', ')
  const row = refs.join(', ')
  return `(${row}) ${isLowerInclusive ? '>=' : '>'} (${lower}) AND (${row}) <= (${upper})`
}

/** The parameters of {@link rangePredicate}, always first in a statement. */
export function rangeValues(range: KeyRange): string[] {
  return [...range.lower, ...range.upper]
}

export interface KeyRangeSql {
  /** One row: `low`, `high` (text arrays, or null when the span holds no rows). */
  readonly bounds: Statement
  /** One row: `estimate` (text), the planner's row count of the legacy table, or an exact count when it has none. */
  readonly estimate: Statement
  /**
   * The legacy key `rows` legacy keys into `range` (from its lower end); over both tables, when fewer legacy keys
   * are left, the shadow's key `rows` shadow keys into it; null (`key`) when fewer are left.
   */
  nextBound(range: KeyRange, rows: number): Statement
  /**
   * The legacy key `rows` legacy keys into `range`, or null (`key`) when fewer are left: read from the legacy key's
   * index alone, never both tables, for cutting a chunk into parts where any legacy key will do.
   */
  legacyBound(range: KeyRange, rows: number): Statement
}

function aliased(side: KeySide): string {
  return side.refs.map((r, i) => `${r} AS ${keyAlias(i)}`).join(', ')
}

function asTextArray(refs: readonly string[]): string {
  return `ARRAY[${refs.map((r) => `${r}::text`).join(', ')}]`
}

function order(refs: readonly string[], direction: 'ASC' | 'DESC'): string {
  return refs.map((r) => `${r} ${direction}`).join(', ')
}

/** Keys travel as text parameters cast to the legacy key column types, never through a JS number. */
export function keyRangeSql(shape: MigrationShape, span: KeySpan): KeyRangeSql {
  const types = keyTypes(shape)
  const n = types.length
  const legacy = legacySide(shape)
  const sides = span === 'legacy' ? [legacy] : [legacy, shadowSide(shape)]
  const outer = shape.legacyKey.map((_, i) => `u.${keyAlias(i)}`)

  const edge = (direction: 'ASC' | 'DESC'): string => {
    if (span === 'legacy')
      return `SELECT ${asTextArray(legacy.refs)} FROM ${legacy.from} ORDER BY ${order(legacy.refs, direction)} LIMIT 1`
    const picks = sides.map((s) => `(SELECT ${aliased(s)} FROM ${s.from} ORDER BY ${order(s.refs, direction)} LIMIT 1)`)
    return `SELECT ${asTextArray(outer)} FROM (${picks.join(' UNION ALL ')}) AS u ORDER BY ${order(outer, direction)} LIMIT 1`
  }

  const legacyAt = (isLowerInclusive: boolean, alias = ''): string =>
    `SELECT ${asTextArray(legacy.refs)}${alias} FROM ${legacy.from} WHERE ${rangePredicate(legacy.refs, types, isLowerInclusive)} ` +
    `ORDER BY ${order(legacy.refs, 'ASC')} OFFSET $${2 * n + 1} LIMIT 1`
  const next = (isLowerInclusive: boolean): string => {
    if (span === 'legacy') return legacyAt(isLowerInclusive, ' AS key')
    // The bound comes from the legacy key's index alone: a chunk covers the shadow rows whose (backward-mapped) key
    // falls in its range whatever the mapping, so every shadow key between the job's bounds (taken over both
    // tables) is in exactly one chunk; a chunk just holds more keys where the shadow has rows legacy lacks. Only
    // when fewer than `rows` legacy keys are left is the bound the shadow's key `rows` keys on, so a tail of shadow
    // rows legacy lacks still comes in chunks of at most `rows` keys of each table (no more exact than that: merging
    // both tables' keys to count each once cost a verify of 1,000,000 rows half a second at its last chunk). That
    // reads the shadow's keys, which cannot use an index when its key is computed; COALESCE evaluates it only then.
    const shadow = shadowSide(shape)
    const shadowNext =
      `SELECT ${asTextArray(shadow.refs)} FROM ${shadow.from} WHERE ${rangePredicate(shadow.refs, types, isLowerInclusive)} ` +
      `ORDER BY ${order(shadow.refs, 'ASC')} OFFSET $${2 * n + 1} LIMIT 1`
    return `SELECT coalesce((${legacyAt(isLowerInclusive)}), (${shadowNext})) AS key`
  }

  const nextText = { inclusive: next(true), exclusive: next(false) }
  const legacyText = { inclusive: legacyAt(true, ' AS key'), exclusive: legacyAt(false, ' AS key') }
  return {
    bounds: { text: `SELECT (${edge('ASC')}) AS low, (${edge('DESC')}) AS high`, values: [] },
    estimate: {
      text: `SELECT (CASE WHEN c.reltuples > 0 THEN c.reltuples::bigint ELSE (SELECT count(*) FROM ${shape.legacyTable}) END)::text AS estimate
               FROM pg_class c WHERE c.oid = $1::regclass`,
      values: [shape.legacyTable],
    },
    nextBound(range: KeyRange, rows: number): Statement {
      const text = range.isLowerInclusive ? nextText.inclusive : nextText.exclusive
      return { text, values: [...rangeValues(range), Math.max(0, rows - 1)] }
    },
    legacyBound(range: KeyRange, rows: number): Statement {
      return {
        text: range.isLowerInclusive ? legacyText.inclusive : legacyText.exclusive,
        values: [...rangeValues(range), Math.max(0, rows - 1)],
      }
    },
  }
}

/** Reads a key column returned as a text array by {@link KeyRangeSql}. */
export function keyFromRow(value: unknown): KeyValues | null {
  return Array.isArray(value) ? (value as string[]) : null
}
