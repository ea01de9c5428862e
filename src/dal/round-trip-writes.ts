/** What the DAL does with a write's round-trip verdict (round-trip-check-sql.ts): count it and record it, off the caller's path. */
import type { Logger } from '../logger.js'
import { recordDivergenceSql } from '../store/divergences/divergence-sql.js'
import type { SqlExecutor } from './executor.js'
import { ROUND_TRIP_COLUMN } from './round-trip-check-sql.js'

/** One written row whose round trip changes it, as the write's statement reports it. */
interface RoundTripRow {
  readonly key: Record<string, string>
  readonly columns: readonly string[]
  readonly legacy: Record<string, string | null>
  readonly read_back: Record<string, string | null>
}

export interface RoundTripContext {
  readonly migration: string
  readonly schema: string
  /** The pool's executor: the divergence rows are written there, never in the caller's transaction. */
  readonly executor: SqlExecutor
  readonly logger: Logger
  readonly background: (work: Promise<unknown>) => void
  readonly counter: { inc(n?: number): void }
}

/**
 * Takes the round-trip column off the written rows and, for rows that would read back different, counts them and
 * records each as a write divergence with both values (legacy_row: as written; shadow_row: as read back), on the
 * pool after the call.
 */
export function takeRoundTrip(rows: Record<string, unknown>[], c: RoundTripContext): void {
  const changed: RoundTripRow[] = []
  for (const row of rows) {
    // Per written row, or (returning: 'none') one array for the statement.
    const verdict = row[ROUND_TRIP_COLUMN] as RoundTripRow | RoundTripRow[] | null
    if (Array.isArray(verdict)) changed.push(...verdict)
    else if (verdict) changed.push(verdict)
    delete row[ROUND_TRIP_COLUMN]
  }
  if (changed.length === 0) return
  c.counter.inc(changed.length)
  for (const row of changed) {
    const record = recordDivergenceSql(c.schema, {
      migration: c.migration,
      key: row.key,
      source: 'write',
      kind: 'mismatch',
      legacyHash: null,
      shadowHash: null,
      legacyRow: row.legacy,
      shadowRow: row.read_back,
      detail: `round trip changes: ${row.columns.join(', ')}`,
    })
    c.background(
      c.executor
        .query(record.text, record.values)
        .catch((error: unknown) =>
          c.logger.warn({ migration: c.migration, err: error }, 'recording a round-trip divergence failed'),
        ),
    )
  }
  c.logger.warn(
    { migration: c.migration, rows: changed.length, columns: [...new Set(changed.flatMap((r) => r.columns))] },
    'written rows would read back different through the mapping',
  )
}
