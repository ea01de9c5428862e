/**
 * Thrown by a chunk's work when its fast statement cannot do this chunk (the backfill's plain insert met a key
 * a dual write had put in the shadow): the chunk's transaction is rolled back and its work runs again at once,
 * with `isAfterConflict`. Cheaper than a savepoint around every chunk's statement, which costs two round trips
 * each time for a case most chunks never meet.
 */
export class ChunkConflict extends Error {
  constructor(cause: unknown) {
    super('the chunk conflicts with rows already in the shadow', { cause })
  }
}
