/** Runs a caller-shaped select on the routed side; a sample runs on both sides in one round trip and is compared by key. */
import type { Kysely } from 'kysely'
import { canonicalJsonNumbers, topLevelMembers } from '../core/json-text.js'
import { phasePolicy, type MigrationState, type Side } from '../core/phases.js'
import { recordDivergenceSql } from '../store/divergences/divergence-sql.js'
import type { SqlExecutor } from './executor.js'
import type { DalContext, Row } from './migration-dal.js'
import { COMPARE_COLUMN, SIDE_COLUMN } from './read-statement.js'
import { comparedSelectStatement, selectStatement, type SelectBuilder } from './select-statement.js'

export interface SelectOptions {
  readonly routingKey?: string
}

interface Difference { key: Record<string, string>; kind: 'mismatch' | 'missing_in_shadow' | 'missing_in_legacy'; legacy?: Row; shadow?: Row }

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
export function differingRows(keyColumns: readonly string[], legacy: readonly ComparedRow[], shadow: readonly ComparedRow[]): Difference[] | 'unkeyed-mismatch' | [] {
  const members = (r: ComparedRow) => topLevelMembers(r.comparable)
  const all = [...legacy, ...shadow].map((r) => ({ r, members: members(r) }))
  const keyed = all.every(({ members: m }) => keyColumns.every((k) => m.has(k)))
  if (!keyed) {
    const bag = (rows: readonly ComparedRow[]) => rows.map((r) => r.comparable).sort().join('\n')
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

export async function routedSelect<R>(c: DalContext, kysely: Kysely<any>, executor: SqlExecutor, state: MigrationState, build: SelectBuilder<R>, options: SelectOptions): Promise<R[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const name = c.shape.definition.name
  const policy = phasePolicy(state.phase)
  // Without a routing key a multi-row read has no sticky identity: it reads the shadow only at 100 %.
  const served: Side = options.routingKey !== undefined ? c.route(state, options.routingKey) : policy.reads === 'ramp' ? (state.readPercent >= 100 ? 'shadow' : 'legacy') : policy.reads
  const sample = state.phase === 'shadow_read' ? c.shape.definition.shadowReadSample : c.shape.definition.compareSample
  if (policy.compareReads && c.random() < sample) {
    const statement = comparedSelectStatement(kysely, c.shape, build)
    try {
      const rows = await executor.query<Row>(statement.text, statement.values)
      const sides: Record<Side, ComparedRow[]> = { legacy: [], shadow: [] }
      for (const { [SIDE_COLUMN]: side, [COMPARE_COLUMN]: comparable, ...row } of rows) {
        sides[side === 'shadow' ? 'shadow' : 'legacy'].push({ row, comparable: canonicalJsonNumbers(String(comparable)) })
      }
      const differences = differingRows(c.shape.legacyKey, sides.legacy, sides.shadow)
      const matched = Array.isArray(differences) && differences.length === 0
      c.instruments.comparisons.inc({ migration: name, source: 'read', result: matched ? 'match' : 'mismatch' })
      c.instruments.reads.inc({ migration: name, served_from: matched ? served : state.authority })
      if (!matched) {
        c.instruments.divergences.inc({ migration: name, source: 'read' })
        c.guardrail?.observeDivergence()
        if (Array.isArray(differences)) {
          for (const d of differences) {
            const record = recordDivergenceSql(c.schema, { migration: name, key: d.key, source: 'read', kind: d.kind, legacyRow: d.legacy ?? null, shadowRow: d.shadow ?? null })
            c.background(c.executor.query(record.text, record.values))
          }
        } else {
          c.logger.warn({ migration: name }, 'a select without the key columns returned different rows on the two sides')
        }
      }
      return sides[matched ? served : state.authority].map((r) => r.row) as R[]
    } catch (error) {
      c.instruments.comparisons.inc({ migration: name, source: 'read', result: 'error' })
      c.logger.warn({ migration: name, err: error }, 'compared select failed; serving without comparison')
    }
  }
  try {
    const statement = selectStatement(kysely, c.shape, served, build)
    const rows = await executor.query<R>(statement.text, statement.values)
    c.instruments.reads.inc({ migration: name, served_from: served })
    return rows
  } catch (error) {
    if (served === state.authority) throw error
    const statement = selectStatement(kysely, c.shape, state.authority, build)
    const rows = await executor.query<R>(statement.text, statement.values)
    c.instruments.reads.inc({ migration: name, served_from: state.authority })
    return rows
  }
}
