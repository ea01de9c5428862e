/**
 * Part (c) of scripts/check-observability.sh: against a running Prometheus that scrapes a
 * cutover process (job "cutover") and loads dashboards/alerts.yml, waits for a few scrapes,
 * then runs every PromQL expression of the dashboard, the alert rules and the runbooks
 * through /api/v1/query and prints whether each returned data.
 *
 *   tsx scripts/evaluate-promql.ts http://127.0.0.1:9090 [scrapes]
 *
 * Exits 1 when an expression fails to parse or evaluate, or a rule's evaluation fails.
 */
import { allPromqlSources, withoutGrafanaVariables } from './observability/promql-sources.js'

interface ApiResponse<T> {
  readonly status: 'success' | 'error'
  readonly data?: T
  readonly errorType?: string
  readonly error?: string
}

const [prometheus, scrapesArg] = process.argv.slice(2)
if (!prometheus) {
  process.stderr.write('usage: tsx scripts/evaluate-promql.ts <prometheus base URL> [scrapes to wait for, default 5]\n')
  process.exit(2)
}
const SCRAPES = Number(scrapesArg ?? 5)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function api<T>(path: string, params: Record<string, string> = {}): Promise<ApiResponse<T>> {
  const url = new URL(path, prometheus)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  const response = await fetch(url)
  return (await response.json()) as ApiResponse<T>
}

/** Waits until the target answered `scrapes` scrapes in a row (scrape_interval 1s). */
async function waitForScrapes(scrapes: number): Promise<void> {
  const deadline = Date.now() + 30_000 + scrapes * 2000
  for (;;) {
    const up = await api<{ result: { value: [number, string] }[] }>('/api/v1/query', {
      query: 'sum_over_time(up{job="cutover"}[1m])',
    }).catch(() => undefined)
    const count = Number(up?.data?.result[0]?.value[1] ?? 0)
    if (count >= scrapes) return
    if (Date.now() > deadline) {
      const targets = await api<{ activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }>(
        '/api/v1/targets',
      ).catch(() => undefined)
      const target = targets?.data?.activeTargets[0]
      throw new Error(
        `the target was not scraped ${scrapes} times: ${target ? `${target.scrapeUrl} is ${target.health}${target.lastError ? `: ${target.lastError}` : ''}` : 'no target'}`,
      )
    }
    await sleep(500)
  }
}

async function main(): Promise<number> {
  await waitForScrapes(SCRAPES)
  let failed = 0
  let withData = 0
  let rulesFailed = 0
  const sources = allPromqlSources()
  for (const source of sources) {
    const query = withoutGrafanaVariables(source.expr)
    const answer = await api<{ resultType: string; result: unknown[] }>('/api/v1/query', { query })
    if (answer.status !== 'success') {
      failed++
      process.stdout.write(
        `FAIL   ${source.where}: ${answer.errorType}: ${answer.error}\n       ${query.replace(/\n/g, '\n       ')}\n`,
      )
      continue
    }
    const series = answer.data?.result.length ?? 0
    if (series > 0) withData++
    process.stdout.write(
      `${series > 0 ? `data   ${String(series).padStart(3)} series` : 'empty           '}  ${source.where}\n`,
    )
  }

  // The rule file is loaded too: every rule must evaluate without error.
  const rules = await api<{
    groups: { rules: { name: string; health: string; lastError?: string; state?: string }[] }[]
  }>('/api/v1/rules')
  for (const rule of rules.data?.groups.flatMap((g) => g.rules) ?? []) {
    if (rule.health === 'err') rulesFailed++
    process.stdout.write(
      `rule   ${rule.name}: ${rule.health}${rule.state ? `, ${rule.state}` : ''}${rule.lastError ? `: ${rule.lastError}` : ''}\n`,
    )
  }
  process.stdout.write(
    `\n${sources.length} expressions: ${withData} returned data, ${sources.length - withData - failed} empty, ${failed} failed; ${rulesFailed} rule(s) failed to evaluate\n`,
  )
  return failed + rulesFailed === 0 ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`evaluate-promql: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
