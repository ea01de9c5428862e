/** The application's read p99 from a Prometheus instant query, over Node's fetch. */
import { prometheusNumber } from '../../core/prometheus-answer.js'
import type { AppLatencySource, PrometheusAppLatency } from './app-latency-source.js'

/** How long one query may take before the look counts as failed. */
const QUERY_TIMEOUT_MS = 5000

/** The query endpoint and its headers: credentials in the URL become a basic-auth header (fetch refuses them in a URL). */
function endpoint(options: PrometheusAppLatency): { url: URL; headers: Record<string, string> } {
  const base = new URL(options.prometheusUrl)
  const headers: Record<string, string> = { accept: 'application/json' }
  if (base.username || base.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`
    base.username = ''
    base.password = ''
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/'
  const url = new URL('api/v1/query', base)
  url.searchParams.set('query', options.query)
  return { url, headers }
}

/**
 * Asks Prometheus at each look. An error says what failed (HTTP status,
 * refused query, timeout) and never carries the URL, which may hold a password.
 */
export function prometheusAppLatency(options: PrometheusAppLatency): AppLatencySource {
  const { url, headers } = endpoint(options)
  return {
    name: 'prometheus',
    async p99Seconds() {
      let response: Response
      try {
        response = await fetch(url, { headers, signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) })
      } catch (error) {
        const { cause } = error as { cause?: { code?: string; message?: string } }
        const why = cause?.code ?? cause?.message ?? (error as Error).name
        throw new Error(`prometheus did not answer (${why})`)
      }
      const body: unknown = await response.json().catch(() => undefined)
      if (!response.ok && (body as { status?: string } | undefined)?.status !== 'error')
        throw new Error(`prometheus answered HTTP ${response.status}`)
      return prometheusNumber(body)
    },
  }
}
