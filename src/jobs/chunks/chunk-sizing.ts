/** Adapts the rows per chunk toward a target chunk time, as pt-online-schema-change does with --chunk-time. */

export const MIN_CHUNK_ROWS = 100
export const MAX_CHUNK_ROWS = 50_000

/**
 * The next chunk size: the rows this chunk handled per millisecond times the
 * target, clamped to 100..`maxRows` (default 50,000). An empty chunk says nothing about speed and
 * keeps the current size.
 */
export function nextChunkRows(
  currentRows: number,
  chunkRows: number,
  elapsedMs: number,
  targetMs: number,
  maxRows = MAX_CHUNK_ROWS,
): number {
  if (chunkRows <= 0 || targetMs <= 0) return currentRows
  const scaled = Math.round((chunkRows * targetMs) / Math.max(elapsedMs, 1))
  return Math.min(maxRows, Math.max(MIN_CHUNK_ROWS, scaled))
}
