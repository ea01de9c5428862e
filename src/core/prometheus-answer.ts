/** Reads one number out of a Prometheus HTTP API instant-query answer (`/api/v1/query`). */

/** Why an answer cannot be read as one number, in words for the operator. */
export class PrometheusAnswerInvalid extends Error {}

type Sample = [number, string]
interface Answer {
  status?: string
  error?: string
  data?: { resultType?: string; result?: unknown }
}

/**
 * The value of a scalar answer, or of a vector answer's only series; null for
 * an empty vector or NaN (no reads in the query's range). Several series, a
 * matrix or an error answer are refused: the query must be aggregated.
 */
export function prometheusNumber(body: unknown): number | null {
  const answer = body as Answer
  if (answer?.status !== 'success')
    throw new PrometheusAnswerInvalid(
      `prometheus refused the query: ${answer?.error ?? 'no status success in its answer'}`,
    )
  const { resultType, result } = answer.data ?? {}
  let sample: Sample | undefined
  if (resultType === 'scalar') sample = result as Sample
  else if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) return null
    if (result.length > 1)
      throw new PrometheusAnswerInvalid(
        `the query returned ${result.length} series, not one number; aggregate it (sum by (le) … inside histogram_quantile)`,
      )
    sample = (result[0] as { value?: Sample }).value
  } else {
    throw new PrometheusAnswerInvalid(
      `the query returned a ${String(resultType)}, not one number; use an instant vector or a scalar`,
    )
  }
  const value = Number(sample?.[1])
  if (sample?.[1] === 'NaN') return null
  if (!Number.isFinite(value))
    throw new PrometheusAnswerInvalid(`the query's value ${String(sample?.[1])} is not a number of seconds`)
  return value
}
