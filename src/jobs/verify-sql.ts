/** The SQL of verify's one statement per chunk, and of the differences it lists. */
import { actualItems, expectedItems } from '../core/compare-sql.js'
import { quoteIdent } from '../core/identifiers.js'
import type { Statement } from '../dal/dual-write-statement.js'
import { typeOf, type MigrationShape } from '../dal/migration-shape.js'
import type { KeyRange } from './key-range.js'
import { keyAlias, keyTypes, legacySide, rangePredicate, rangeValues, shadowSide } from './key-range-sql.js'

export const DIFFERENCE_KINDS = ['mismatch', 'missing_in_shadow', 'missing_in_legacy'] as const
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number]

export interface VerifySql {
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
 * Entirely in the database: a FULL JOIN of the legacy rows' expected
 * projection (through `forward`) and the shadow rows' actual projection, on the
 * legacy key (the shadow's through `backward`), judged by `IS DISTINCT FROM` on
 * the same comparable text the read comparison uses (core/compare-sql.ts).
 * Differing keys are upserted as open divergences in the same statement.
 */
export function verifySql(shape: MigrationShape, schema: string): VerifySql {
  const types = keyTypes(shape)
  const n = types.length
  const legacy = legacySide(shape)
  const shadow = shadowSide(shape)
  const divergences = `${quoteIdent(schema)}.divergences`
  const columns = shape.forward.map((m) => ({ column: m.column, type: typeOf(shape.shadowColumns, m.column), expression: m.expression }))
  const compare = shape.definition.compare
  const keys = shape.legacyKey.map((_, i) => keyAlias(i))
  const aliased = (refs: readonly string[]): string => refs.map((r, i) => `${r} AS ${keyAlias(i)}`).join(', ')
  const keyNames = shape.legacyKey.map((_, i) => `$${2 * n + 3 + i}::text`)

  const text = (isLowerInclusive: boolean): string => `WITH l AS (
  SELECT ${aliased(legacy.refs)}, to_jsonb(e) AS cmp
    FROM ${legacy.from} CROSS JOIN LATERAL (SELECT ${expectedItems(columns, compare)}) AS e
   WHERE ${rangePredicate(legacy.refs, types, isLowerInclusive)}
), s AS (
  SELECT ${aliased(shadow.refs)}, to_jsonb(a) AS cmp
    FROM ${shadow.from} CROSS JOIN LATERAL (SELECT ${actualItems(columns, compare, 'st')}) AS a
   WHERE ${rangePredicate(shadow.refs, types, isLowerInclusive)}
), j AS (
  SELECT ${keys.map((k) => `coalesce(l.${k}, s.${k}) AS ${k}`).join(', ')},
         CASE WHEN l.${keys[0]} IS NULL THEN 'missing_in_legacy' WHEN s.${keys[0]} IS NULL THEN 'missing_in_shadow'
              WHEN l.cmp IS DISTINCT FROM s.cmp THEN 'mismatch' END AS kind,
         -- Both sides' comparable projections (the shadow's shape), as the read comparison stores them.
         l.cmp AS legacy_row, s.cmp AS shadow_row
    FROM l FULL JOIN s ON ${keys.map((k) => `l.${k} = s.${k}`).join(' AND ')}
), found AS (
  INSERT INTO ${divergences} AS dv (migration, key, source, kind, legacy_row, shadow_row, detail)
  SELECT DISTINCT ON (${keys.join(', ')}) $${2 * n + 1}, jsonb_build_object(${keys.map((k, i) => `${keyNames[i]}, j.${k}::text`).join(', ')}),
         'verify', j.kind, j.legacy_row, j.shadow_row, $${2 * n + 2}
    FROM j WHERE j.kind IS NOT NULL ORDER BY ${keys.join(', ')}
  ON CONFLICT (migration, key) WHERE repaired_at IS NULL
  DO UPDATE SET kind = EXCLUDED.kind, legacy_row = EXCLUDED.legacy_row, shadow_row = EXCLUDED.shadow_row,
                detail = EXCLUDED.detail, last_seen = clock_timestamp(), seen_count = dv.seen_count + 1
  RETURNING 1
)
SELECT count(*)::int AS compared, ${DIFFERENCE_KINDS.map((k) => `count(*) FILTER (WHERE kind = '${k}')::int AS ${k}`).join(', ')} FROM j`
  const texts = { inclusive: text(true), exclusive: text(false) }

  const typedKeys = shape.legacyKey.map((_, i) => `(key ->> $${4 + i})::${types[i]} AS ${keyAlias(i)}`).join(', ')
  const differencesText = `SELECT kind, ${typedKeys} FROM ${divergences}
    WHERE migration = $1 AND repaired_at IS NULL AND detail = $2 ORDER BY ${keys.join(', ')} LIMIT $3`

  return {
    compareChunk: (range, migration, detail) => ({
      text: range.isLowerInclusive ? texts.inclusive : texts.exclusive,
      values: [...rangeValues(range), migration, detail, ...shape.legacyKey],
    }),
    differences: (migration, detail, limit) => ({ text: differencesText, values: [migration, detail, limit, ...shape.legacyKey] }),
  }
}
