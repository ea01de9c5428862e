/**
 * Every PromQL expression we ship: the dashboard's queries and annotations, the alert
 * rules, and the ```promql blocks of the runbooks, each with where it comes from.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { load } from 'js-yaml'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const DASHBOARD_JSON = join(ROOT, 'dashboards', 'cutover.json')
export const ALERTS_YAML = join(ROOT, 'dashboards', 'alerts.yml')
export const RUNBOOKS_DIR = join(ROOT, 'runbooks')

export interface PromqlSource {
  /** For messages: "dashboard panel "Reads by side" query A", "alert CutoverDivergence", … */
  readonly where: string
  /** As written, Grafana variables included. */
  readonly expr: string
}

export interface AlertRule {
  readonly alert: string
  readonly expr: string
  readonly for?: string
  readonly labels?: Record<string, string>
  readonly annotations?: Record<string, string>
}

interface PanelJson {
  readonly title?: string
  readonly targets?: readonly { readonly refId?: string; readonly expr?: string }[]
  readonly panels?: readonly PanelJson[]
}

interface DashboardJson {
  readonly panels?: readonly PanelJson[]
  readonly annotations?: { readonly list?: readonly { readonly name?: string; readonly expr?: string }[] }
  readonly templating?: {
    readonly list?: readonly { readonly name?: string; readonly type?: string; readonly query?: unknown }[]
  }
}

/** The queries of every panel (rows' nested panels included) and of every annotation. */
export function dashboardSources(dashboard: unknown): PromqlSource[] {
  const d = dashboard as DashboardJson
  const out: PromqlSource[] = []
  const visit = (panels: readonly PanelJson[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) {
        if (target.expr !== undefined)
          out.push({ where: `dashboard panel "${panel.title ?? '?'}" query ${target.refId ?? '?'}`, expr: target.expr })
      }
      visit(panel.panels)
    }
  }
  visit(d.panels)
  for (const annotation of d.annotations?.list ?? []) {
    if (annotation.expr !== undefined)
      out.push({ where: `dashboard annotation "${annotation.name ?? '?'}"`, expr: annotation.expr })
  }
  return out
}

/** Grafana's `label_values(metric, label)` variable queries (not PromQL): `{ name, metric, label }`. */
export function dashboardLabelValueQueries(dashboard: unknown): { name: string; metric: string; label: string }[] {
  const out: { name: string; metric: string; label: string }[] = []
  for (const variable of (dashboard as DashboardJson).templating?.list ?? []) {
    if (variable.type !== 'query') continue
    const query =
      typeof variable.query === 'string'
        ? variable.query
        : String((variable.query as { query?: string } | undefined)?.query)
    const match = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(query)
    if (!match?.[1] || !match[2]) throw new Error(`dashboard variable "${variable.name}": unexpected query ${query}`)
    out.push({ name: variable.name ?? '?', metric: match[1], label: match[2] })
  }
  return out
}

/** The alerting rules of a Prometheus rule file. */
export function alertRules(yamlText: string): AlertRule[] {
  const doc = load(yamlText) as { groups?: { rules?: AlertRule[] }[] } | null
  return (doc?.groups ?? []).flatMap((group) => group.rules ?? []).filter((rule) => typeof rule.alert === 'string')
}

export function ruleSources(yamlText: string): PromqlSource[] {
  return alertRules(yamlText).map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }))
}

/** The runbooks: file name → markdown, README.md excluded. */
export function runbooks(dir = RUNBOOKS_DIR): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.md') && f !== 'README.md')
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  )
}

/** The ```promql fenced blocks of a markdown text; a block may hold several expressions separated by blank lines. */
export function markdownPromql(file: string, markdown: string): PromqlSource[] {
  const out: PromqlSource[] = []
  for (const match of markdown.matchAll(/^```promql\n([\s\S]*?)^```/gm)) {
    const body = (match[1] ?? '').replace(/^#.*$/gm, '')
    for (const expr of body
      .split(/\n\s*\n/)
      .map((e) => e.trim())
      .filter(Boolean))
      out.push({ where: `runbook ${file} #${out.length + 1}`, expr })
  }
  return out
}

/** Everything at once, read from the committed files. */
export function allPromqlSources(): PromqlSource[] {
  return [
    ...dashboardSources(JSON.parse(readFileSync(DASHBOARD_JSON, 'utf8'))),
    ...ruleSources(readFileSync(ALERTS_YAML, 'utf8')),
    ...[...runbooks()].flatMap(([file, text]) => markdownPromql(file, text)),
  ]
}

/**
 * Replaces the Grafana variables the dashboard uses with values Prometheus accepts:
 * every migration, a 1-minute rate window, a 1-hour range, the default p99 bound.
 */
export function withoutGrafanaVariables(expr: string): string {
  const values: Record<string, string> = {
    migration: '.+',
    __rate_interval: '1m',
    __interval: '1m',
    __range: '1h',
    p99_ratio_bound: '2',
  }
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? ''
    const value = values[name]
    if (value === undefined) throw new Error(`unknown Grafana variable ${whole} in: ${expr}`)
    return value
  })
}
