/** The SQL of the backfill's statements per chunk. */
import type { Statement } from '../../db/statement.js'
import { list, type MigrationShape } from '../../shape/migration-shape.js'
import type { KeyRange } from '../chunks/key-range.js'
import { keyTypes, legacySide, rangePredicate, rangeValues } from '../chunks/key-range-sql.js'

export interface BackfillSql {
  /**
   * The fast path, for a chunk whose keys the shadow does not hold yet: a
   * plain insert of the locked legacy rows. Its row count is both the rows
   * scanned and the rows copied. It fails whole with a unique violation (23505)
   * when a dual write already put one of the keys in the shadow; the chunk's
   * transaction is then rolled back and the chunk runs again with
   * {@link BackfillSql.copyChunkKeepingShadowRows}.
   */
  copyChunk(range: KeyRange): Statement
  /** One row: `scanned` (legacy rows in the range) and `copied` (rows inserted into the shadow), both int. */
  copyChunkKeepingShadowRows(range: KeyRange): Statement
}

/**
 * Both statements copy the chunk's legacy rows into the shadow through
 * `forward`, locking them FOR SHARE (so a concurrent delete cannot leave a
 * ghost row behind: it waits for the chunk's commit, and its shadow delete
 * then finds the copied row). They differ in how they keep a row a dual write
 * already put in the shadow: the plain insert fails and the chunk falls back
 * to ON CONFLICT DO NOTHING, which skips such rows but makes every insert
 * speculative (a pre-check of the shadow's key and a confirm record per row,
 * about a quarter of the chunk's time; BENCHMARKS.md). NOWAIT: a row locked by
 * another transaction fails the chunk at once (55P03) and it is retried after
 * a backoff. Waiting instead would hold the share locks already taken on the
 * chunk's earlier rows, stalling the application's writes to them, and would
 * put the backfill in that row's lock queue, ahead of the application's next
 * writer.
 */
export function backfillSql(shape: MigrationShape): BackfillSql {
  const types = keyTypes(shape)
  const legacy = legacySide(shape)
  const columns = list(shape.forward.map((m) => m.column))
  const expressions = shape.forward.map((m) => m.expression).join(', ')
  const locked = (isLowerInclusive: boolean): string =>
    `SELECT lt.* FROM ${legacy.from} WHERE ${rangePredicate(legacy.refs, types, isLowerInclusive)} ORDER BY ${legacy.refs.join(', ')} FOR SHARE NOWAIT`
  const plain = (isLowerInclusive: boolean): string =>
    `INSERT INTO ${shape.shadowTable} (${columns})${shape.overriding.shadow} SELECT ${expressions} FROM (${locked(isLowerInclusive)}) AS src`
  const keeping = (isLowerInclusive: boolean): string =>
    `WITH src AS (${locked(isLowerInclusive)}),
copied AS (INSERT INTO ${shape.shadowTable} (${columns})${shape.overriding.shadow} SELECT ${expressions} FROM src ON CONFLICT (${list(shape.shadowConflictKey)}) DO NOTHING RETURNING 1)
SELECT (SELECT count(*) FROM src)::int AS scanned, (SELECT count(*) FROM copied)::int AS copied`
  const plainTexts = { inclusive: plain(true), exclusive: plain(false) }
  const keepingTexts = { inclusive: keeping(true), exclusive: keeping(false) }
  return {
    copyChunk: (range) => ({
      text: range.isLowerInclusive ? plainTexts.inclusive : plainTexts.exclusive,
      values: rangeValues(range),
    }),
    copyChunkKeepingShadowRows: (range) => ({
      text: range.isLowerInclusive ? keepingTexts.inclusive : keepingTexts.exclusive,
      values: rangeValues(range),
    }),
  }
}
