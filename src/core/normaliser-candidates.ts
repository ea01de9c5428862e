/** Which normalisers of the closed set could apply to a column of a given type, least lossy first. */
import type { Normaliser } from './normalisers.js'

const NUMERIC_SCALES = Array.from({ length: 16 }, (_, i) => `numeric:${15 - i}`)

/**
 * The normalisers worth trying on a shadow column of `type` (its `format_type`),
 * in the order a fix should be preferred: the one that throws away least comes
 * first. JSON columns get none: key order and number scale never differ there.
 */
export function normaliserCandidates(type: string): Normaliser[] {
  if (/^timestamp\b/.test(type)) return ['timestamp_ms', 'timestamp_s']
  if (/^(numeric|real|double precision|integer|bigint|smallint)\b/.test(type)) return NUMERIC_SCALES
  if (/^(text|character varying|character|citext|name)\b/.test(type)) return ['trim', 'lower']
  return []
}
