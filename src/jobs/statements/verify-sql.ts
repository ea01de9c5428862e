/** The SQL of verify's one statement per chunk, and of the differences it lists. */
import { readBackKey, verifyColumns, type VerifyColumnSql } from '../../core/compare-sql.js'
import { changingReadBackColumns } from '../../shape/read-back-columns.js'
import { quoteIdent } from '../../core/identifiers.js'
import type { Statement } from '../../db/statement.js'
import { typeOf, type MigrationShape } from '../../shape/migration-shape.js'
import type { KeyRange } from '../chunks/key-range.js'
import { keyAlias, keyTypes, legacySide, rangePredicate, rangeValues, shadowSide } from '../chunks/key-range-sql.js'
import { divergencesTable, divergenceUpsertSql } from '../../store/divergences/divergence-upsert-sql.js'

export const DIFFERENCE_KINDS = ['mismatch', 'missing_in_shadow', 'missing_in_legacy'] as const
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number]

export interface VerifySql {
  /**
   * Judges one chunk and only counts: no value is carried above the join and
   * nothing is written. Same row as {@link compareChunk}. Most chunks of a
   * verify are clean, and this is about a quarter cheaper; a chunk it finds
   * differences in is compared again by `compareChunk`, which records them.
   * It casts and normalises only the rows whose raw values are not certainly
   * equal (`VerifyColumnSql.sameRaw`), with the same answers.
   */
  checkChunk(range: KeyRange): Statement
  /**
   * Compares one chunk and records its differing keys (source 'verify', the
   * `detail` marking the run). One row: `compared`, `mismatch`,
   * `missing_in_shadow`, `missing_in_legacy` (int).
   */
  compareChunk(range: KeyRange, migration: string, detail: string): Statement
  /** Open divergences recorded with `detail`, in key order: `kind` and the key columns as `__k0`, `__k1`, … */
  differences(migration: string, detail: string, limit: number): Statement
}

/**
 * Entirely in the database: a FULL JOIN of the legacy rows' expected values
 * (through `forward`) and the shadow rows' actual values, on the legacy key
 * (the shadow's through `backward`), judged by `ROW(...) IS DISTINCT FROM
 * ROW(...)` over the normalised values: typed where typed equality judges as
 * the comparable text of the read comparison does (core/compare-sql.ts), that
 * text otherwise. Only the differing rows get their comparable projections
 * built as JSON, and their keys are upserted as open divergences in the same
 * statement.
 */
export function verifySql(shape: MigrationShape, schema: string): VerifySql {
  const types = keyTypes(shape)
  const n = types.length
  const legacy = legacySide(shape)
  const shadow = shadowSide(shape)
  const divergences = divergencesTable(schema)
  const columns = verifyColumns(
    shape.forward.map((m) => ({
      column: m.column,
      type: typeOf(shape.shadowColumns, m.column),
      expression: m.expression,
    })),
    shape.definition.compare,
  )
  // The legacy shape too, as the caller receives a row: each legacy column whose round trip is not the identity,
  // the legacy row's own value against the shadow row's read back through backward.
  const back = changingReadBackColumns(shape)
  const backwardOf = new Map(shape.backward.map((m) => [m.column, m.expression]))
  const backAlias = (i: number): string => quoteIdent(`__b${i}`)
  const backSideAlias = (side: 'l' | 's', i: number): string => quoteIdent(`__${side}b${i}`)
  const backRaw = (side: 'l' | 's'): string =>
    back
      .map(
        (c, i) =>
          `, ${side === 'l' ? `lt.${quoteIdent(c.column)}` : `(${backwardOf.get(c.column) ?? 'NULL'})::${c.type}`} AS ${backAlias(i)}`,
      )
      .join('')
  const backValues = (side: 'l' | 's'): string =>
    back
      .map(
        (c, i) =>
          `, ${c.sql.normalise(side === 'l' ? `lt.${quoteIdent(c.column)}` : `(${backwardOf.get(c.column) ?? 'NULL'})::${c.type}`)} AS ${backAlias(i)}`,
      )
      .join('')
  const backRow = (side: 'l' | 's', normalise: boolean): string =>
    `ROW(${back.map((c, i) => c.sql.key(normalise ? c.sql.normalise(`${side}.${backAlias(i)}`) : `${side}.${backAlias(i)}`)).join(', ')})`
  const keys = shape.legacyKey.map((_, i) => keyAlias(i))
  const aliased = (refs: readonly string[]): string => refs.map((r, i) => `${r} AS ${keyAlias(i)}`).join(', ')
  const keyNames = shape.legacyKey.map((_, i) => `$${2 * n + 3 + i}::text`)
  const valueAlias = (i: number): string => quoteIdent(`__v${i}`)
  const sideAlias = (side: 'l' | 's', i: number): string => quoteIdent(`__${side}${i}`)
  const values = (of: (c: VerifyColumnSql) => string): string =>
    columns.map((c, i) => `${of(c)} AS ${valueAlias(i)}`).join(', ')
  const row = (side: 'l' | 's'): string =>
    `ROW(${[...columns.map((c, i) => c.key(`${side}.${valueAlias(i)}`)), ...back.map((c, i) => c.sql.key(`${side}.${backAlias(i)}`))].join(', ')})`
  // The same JSON object as to_jsonb of the read comparison's projection: the column names as keys.
  const json = (side: 'l' | 's'): string =>
    `(SELECT to_jsonb(p) FROM (SELECT ${[
      ...columns.map((c, i) => `${c.comparable(`c.${sideAlias(side, i)}`)} AS ${quoteIdent(c.column)}`),
      ...back.map(
        (c, i) => `${c.sql.comparable(`c.${backSideAlias(side, i)}`)} AS ${quoteIdent(readBackKey(c.column))}`,
      ),
    ].join(', ')}) AS p)`

  // The differing rows' keys, typed again, for DISTINCT ON and the order of the upserts; a missing side's row is SQL NULL.
  const foundKeys = types.map((t, i) => `(f.value -> 'key' ->> ${i})::${t}`).join(', ')

  const sides = (isLowerInclusive: boolean): string => `l AS (
  SELECT ${aliased(legacy.refs)}, ${values((c) => c.expected)}${backValues('l')}
    FROM ${legacy.from}
   WHERE ${rangePredicate(legacy.refs, types, isLowerInclusive)}
), s AS (
  SELECT ${aliased(shadow.refs)}, ${values((c) => c.actual('st'))}${backValues('s')}
    FROM ${shadow.from}
   WHERE ${rangePredicate(shadow.refs, types, isLowerInclusive)}
)`
  const kind = `CASE WHEN l.${keys[0]} IS NULL THEN 'missing_in_legacy' WHEN s.${keys[0]} IS NULL THEN 'missing_in_shadow'
              WHEN ${row('l')} IS DISTINCT FROM ${row('s')} THEN 'mismatch' END`
  const join = `l FULL JOIN s ON ${keys.map((k) => `l.${k} = s.${k}`).join(' AND ')}`
  const counts = `count(*)::int AS compared, ${DIFFERENCE_KINDS.map((k) => `count(*) FILTER (WHERE kind = '${k}')::int AS ${k}`).join(', ')}`
  // The counting pass selects raw values (the forward expression's, the shadow column's) and casts and normalises them
  // only for a row whose raw values are not certainly equal (VerifyColumnSql.sameRaw): most rows of a verify match.
  const rawSides = (isLowerInclusive: boolean): string => `l AS (
  SELECT ${aliased(legacy.refs)}, ${shape.forward.map((m, i) => `(${m.expression}) AS ${valueAlias(i)}`).join(', ')}${backRaw('l')}
    FROM ${legacy.from}
   WHERE ${rangePredicate(legacy.refs, types, isLowerInclusive)}
), s AS (
  SELECT ${aliased(shadow.refs)}, ${values((c) => `st.${quoteIdent(c.column)}`)}${backRaw('s')}
    FROM ${shadow.from}
   WHERE ${rangePredicate(shadow.refs, types, isLowerInclusive)}
)`
  const normalisedRow = (side: 'l' | 's', which: (c: VerifyColumnSql) => boolean): string =>
    `ROW(${columns.flatMap((c, i) => (which(c) ? [c.key(c.normalise(`${side}.${valueAlias(i)}`))] : [])).join(', ')})`
  const rawTests = columns.flatMap((c, i) => (c.sameRaw ? [c.sameRaw(`l.${valueAlias(i)}`, `s.${valueAlias(i)}`)] : []))
  const rest = (c: VerifyColumnSql): boolean => c.sameRaw === null
  const quickEqual = [
    ...rawTests.map((t) => `(${t})`),
    ...(rawTests.length > 0 && columns.some(rest)
      ? [`${normalisedRow('l', rest)} IS NOT DISTINCT FROM ${normalisedRow('s', rest)}`]
      : []),
  ].join(' AND ')
  // Each row is judged once, in the one FILTER that needs it: the missing sides are counted from the join's null
  // keys (a table's key is never null). No subquery between the join and the counts, so PostgreSQL may count in
  // parallel workers (a Partial Aggregate under the Gather) rather than ship every row's kind to the leader.
  const shadowShapeDiffers = [
    ...(quickEqual === '' ? [] : [`NOT coalesce(${quickEqual}, false)`]),
    `${normalisedRow('l', () => true)} IS DISTINCT FROM ${normalisedRow('s', () => true)}`,
  ].join('\n                AND ')
  const mismatch = [
    `l.${keys[0]} IS NOT NULL`,
    `s.${keys[0]} IS NOT NULL`,
    back.length === 0
      ? shadowShapeDiffers
      : `((${shadowShapeDiffers}) OR ${backRow('l', true)} IS DISTINCT FROM ${backRow('s', true)})`,
  ].join('\n                AND ')
  const checkText = (isLowerInclusive: boolean): string => `WITH ${rawSides(isLowerInclusive)}
SELECT count(*)::int AS compared,
       count(*) FILTER (WHERE ${mismatch})::int AS mismatch,
       (count(*) - count(s.${keys[0]}))::int AS missing_in_shadow,
       (count(*) - count(l.${keys[0]}))::int AS missing_in_legacy
  FROM ${join}`
  const checkTexts = { inclusive: checkText(true), exclusive: checkText(false) }

  const text = (isLowerInclusive: boolean): string => `WITH ${sides(isLowerInclusive)}, c AS (
  SELECT ${keys.map((k) => `coalesce(l.${k}, s.${k}) AS ${k}`).join(', ')},
         ${kind} AS kind,
         ${columns.map((_, i) => `l.${valueAlias(i)} AS ${sideAlias('l', i)}, s.${valueAlias(i)} AS ${sideAlias('s', i)}`).join(', ')}${back.map((_, i) => `, l.${backAlias(i)} AS ${backSideAlias('l', i)}, s.${backAlias(i)} AS ${backSideAlias('s', i)}`).join('')}
    FROM ${join}
  -- OFFSET 0 keeps c a subquery, so each row's kind is judged once, not again in every reference to it below.
  OFFSET 0
), a AS (
  -- One row: the counts, and the differing rows only, each with both sides' comparable projections (the
  -- shadow's shape) as the read comparison stores them. No per-row state is kept for the rows that match.
  SELECT ${counts},
         jsonb_agg(jsonb_build_object('key', jsonb_build_array(${keys.map((k) => `${k}::text`).join(', ')}), 'kind', kind,
           'legacy_row', CASE WHEN kind IN ('mismatch', 'missing_in_shadow') THEN ${json('l')} END,
           'shadow_row', CASE WHEN kind IN ('mismatch', 'missing_in_legacy') THEN ${json('s')} END)) FILTER (WHERE kind IS NOT NULL) AS differing
    FROM c
), found AS (
  ${divergenceUpsertSql({
    table: divergences,
    columns: ['migration', 'key', 'source', 'kind', 'legacy_row', 'shadow_row', 'detail'],
    rows: `SELECT DISTINCT ON (${foundKeys}) $${2 * n + 1}, jsonb_build_object(${keyNames.map((name, i) => `${name}, f.value -> 'key' ->> ${i}`).join(', ')}),
         'verify', f.value ->> 'kind', nullif(f.value -> 'legacy_row', 'null'), nullif(f.value -> 'shadow_row', 'null'), $${2 * n + 2}
    FROM a CROSS JOIN LATERAL jsonb_array_elements(a.differing) AS f ORDER BY ${foundKeys}`,
    refreshed: ['kind', 'legacy_row', 'shadow_row', 'detail'],
    returning: '1',
  })}
)
SELECT compared, ${DIFFERENCE_KINDS.join(', ')} FROM a`
  const texts = { inclusive: text(true), exclusive: text(false) }

  const typedKeys = shape.legacyKey.map((_, i) => `(key ->> $${4 + i})::${types[i]} AS ${keyAlias(i)}`).join(', ')
  const differencesText = `SELECT kind, ${typedKeys} FROM ${divergences}
    WHERE migration = $1 AND repaired_at IS NULL AND detail = $2 ORDER BY ${keys.join(', ')} LIMIT $3`

  return {
    checkChunk: (range) => ({
      text: range.isLowerInclusive ? checkTexts.inclusive : checkTexts.exclusive,
      values: rangeValues(range),
    }),
    compareChunk: (range, migration, detail) => ({
      text: range.isLowerInclusive ? texts.inclusive : texts.exclusive,
      values: [...rangeValues(range), migration, detail, ...shape.legacyKey],
    }),
    differences: (migration, detail, limit) => ({
      text: differencesText,
      values: [migration, detail, limit, ...shape.legacyKey],
    }),
  }
}
