/** The SQL of the backfill's one statement per chunk. */
import type { Statement } from '../db/statement.js'
import { list, type MigrationShape } from '../shape/migration-shape.js'
import type { KeyRange } from './key-range.js'
import { keyTypes, legacySide, rangePredicate, rangeValues } from './key-range-sql.js'

export interface BackfillSql {
  /** One row: `scanned` (legacy rows in the range) and `copied` (rows inserted into the shadow), both int. */
  copyChunk(range: KeyRange): Statement
}

/**
 * Copies the chunk's legacy rows into the shadow through `forward`, locking
 * them FOR SHARE (so a concurrent delete cannot leave a ghost row behind) and
 * keeping any row a dual write already put there (ON CONFLICT DO NOTHING).
 * NOWAIT: a row locked by another transaction fails the chunk at once (55P03)
 * and it is retried after a backoff. Waiting instead would hold the share
 * locks already taken on the chunk's earlier rows, stalling the application's
 * writes to them, and would put the backfill in that row's lock queue, ahead
 * of the application's next writer.
 */
export function backfillSql(shape: MigrationShape): BackfillSql {
  const types = keyTypes(shape)
  const legacy = legacySide(shape)
  const columns = list(shape.forward.map((m) => m.column))
  const expressions = shape.forward.map((m) => m.expression).join(', ')
  const text = (isLowerInclusive: boolean): string =>
    `WITH src AS (SELECT lt.* FROM ${legacy.from} WHERE ${rangePredicate(legacy.refs, types, isLowerInclusive)} ORDER BY ${legacy.refs.join(', ')} FOR SHARE NOWAIT),
copied AS (INSERT INTO ${shape.shadowTable} (${columns}) SELECT ${expressions} FROM src ON CONFLICT (${list(shape.shadowKey)}) DO NOTHING RETURNING 1)
SELECT (SELECT count(*) FROM src)::int AS scanned, (SELECT count(*) FROM copied)::int AS copied`
  const texts = { inclusive: text(true), exclusive: text(false) }
  return {
    copyChunk: (range) => ({ text: range.isLowerInclusive ? texts.inclusive : texts.exclusive, values: rangeValues(range) }),
  }
}
