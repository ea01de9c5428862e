/** Caller-shaped selects as read plans (read-pipeline.ts): the routed side's statement, and both sides' for a comparison, compared by key. */
import type { Kysely } from 'kysely'
import { canonicalJsonNumbers, topLevelMembers } from '../core/json-text.js'
import { phasePolicy, type MigrationState, type Side } from '../core/phases.js'
import { recordDivergenceSql } from '../store/divergences/divergence-sql.js'
import type { DalContext } from './dal-context.js'
import type { ReadPlan, Row } from './read-pipeline.js'
import { COMPARE_COLUMN, SIDE_COLUMN } from '../shape/compared-sides.js'
import { migrationComparedSelects, selectStatement, type SelectBuilder } from './select-statement.js'

interface Difference {
  key: Record<string, string>
  kind: 'mismatch' | 'missing_in_shadow' | 'missing_in_legacy'
  legacy?: Row
  shadow?: Row
}

/** A result row as served, and its comparable text with numbers canonicalised (core/json-text.ts). */
export interface ComparedRow {
  readonly row: Row
  readonly comparable: string
}

/**
 * Rows compared by legacy key when every key column was selected, else as
 * multisets. Both judge the comparable text PostgreSQL rendered, never values
 * decoded in Node (a Date keeps milliseconds only, a double 17 digits).
 */
export function differingRows(
  keyColumns: readonly string[],
  legacy: readonly ComparedRow[],
  shadow: readonly ComparedRow[],
): Difference[] | 'unkeyed-mismatch' | [] {
  const members = (r: ComparedRow) => topLevelMembers(r.comparable)
  const all = [...legacy, ...shadow].map((r) => ({ r, members: members(r) }))
  const keyed = all.every(({ members: m }) => keyColumns.every((k) => m.has(k)))
  if (!keyed) {
    const bag = (rows: readonly ComparedRow[]) =>
      rows
        .map((r) => r.comparable)
        .sort()
        .join('\n')
    return bag(legacy) === bag(shadow) ? [] : 'unkeyed-mismatch'
  }
  const keys = new Map(all.map(({ r, members: m }) => [r, JSON.stringify(keyColumns.map((k) => m.get(k)))]))
  const byKey = (rows: readonly ComparedRow[]) => new Map(rows.map((r) => [keys.get(r) as string, r]))
  const l = byKey(legacy)
  const s = byKey(shadow)
  const out: Difference[] = []
  for (const key of new Set([...l.keys(), ...s.keys()])) {
    const a = l.get(key)
    const b = s.get(key)
    const row = ((a ?? b) as ComparedRow).row
    const keyObject = Object.fromEntries(keyColumns.map((k) => [k, String(row[k])]))
    if (!b) out.push({ key: keyObject, kind: 'missing_in_shadow', legacy: a?.row })
    else if (!a) out.push({ key: keyObject, kind: 'missing_in_legacy', shadow: b.row })
    else if (a.comparable !== b.comparable) out.push({ key: keyObject, kind: 'mismatch', legacy: a.row, shadow: b.row })
  }
  return out
}

/** The side a select reads: routing's choice with a routing key; without one, the shadow only at 100 % (a multi-row read has no sticky identity). */
export function selectServedSide(
  c: Pick<DalContext, 'route'>,
  state: MigrationState,
  routingKey: string | undefined,
): Side {
  const policy = phasePolicy(state.phase)
  if (routingKey !== undefined) return c.route(state, routingKey)
  return policy.reads === 'ramp' ? (state.readPercent >= 100 ? 'shadow' : 'legacy') : policy.reads
}

/** A caller-shaped select as a read plan: each statement compiled when the pipeline needs it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function selectPlan<R>(c: DalContext, kysely: Kysely<any>, build: SelectBuilder<R>): ReadPlan<R[]> {
  const name = c.shape.definition.name
  const compared = migrationComparedSelects(kysely, c.shape, build)
  return {
    read: (side) => selectStatement(kysely, c.shape, side, build),
    equal: () => compared.equal(),
    inline: () => compared.inline(),
    result: (rows) => rows as R[],
    // Both sides' rows with their comparable text, compared by key (or as multisets) and recorded per differing key.
    record: async (executor) => {
      const statement = compared.compared()
      const rows = await executor.query<Row>(statement.text, statement.values)
      const sides: Record<Side, ComparedRow[]> = { legacy: [], shadow: [] }
      for (const { [SIDE_COLUMN]: side, [COMPARE_COLUMN]: comparable, ...row } of rows) {
        sides[side === 'shadow' ? 'shadow' : 'legacy'].push({
          row,
          comparable: canonicalJsonNumbers(String(comparable)),
        })
      }
      const differences = differingRows(c.shape.legacyKey, sides.legacy, sides.shadow)
      if (!Array.isArray(differences)) {
        c.logger.warn({ migration: name }, 'a select without the key columns returned different rows on the two sides')
        return true
      }
      for (const d of differences) {
        const record = recordDivergenceSql(c.schema, {
          migration: name,
          key: d.key,
          source: 'read',
          kind: d.kind,
          legacyRow: d.legacy ?? null,
          shadowRow: d.shadow ?? null,
        })
        await executor.query(record.text, record.values)
      }
      if (differences.length > 0)
        c.logger.warn({ migration: name, keys: differences.length }, 'select comparison found divergences')
      return differences.length > 0
    },
  }
}
