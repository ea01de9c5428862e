import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { PHASES } from '../src/core/phases.js'
import { instrumentsFor } from '../src/metrics/instruments.js'
import { METRICS, PHASE_VALUES } from '../scripts/observability/metric-contract.js'
import { lintPromql } from '../scripts/observability/promql-lint.js'
import {
  ALERTS_YAML,
  DASHBOARD_JSON,
  RUNBOOKS_DIR,
  alertRules,
  dashboardLabelValueQueries,
  dashboardSources,
  markdownPromql,
  ruleSources,
  runbooks,
  withoutGrafanaVariables,
} from '../scripts/observability/promql-sources.js'

const dashboard: unknown = JSON.parse(readFileSync(DASHBOARD_JSON, 'utf8'))
const rulesYaml = readFileSync(ALERTS_YAML, 'utf8')
const RUNBOOK_URL = /^https:\/\/github\.com\/cutover\/cutover\/blob\/main\/runbooks\/([a-z0-9-]+\.md)$/
const RUNBOOK_SECTIONS = [
  'What it means',
  'How to confirm',
  'Make it safe',
  'Check it worked',
  'What users see',
  'When to escalate',
]

describe('PromQL against the metrics contract (DESIGN.md section 5)', () => {
  const dashboardExprs = dashboardSources(dashboard)
  const ruleExprs = ruleSources(rulesYaml)
  const runbookExprs = [...runbooks()].flatMap(([file, text]) => markdownPromql(file, text))

  it('finds the expressions to check', () => {
    expect(dashboardExprs.length).toBeGreaterThan(20)
    expect(ruleExprs.length).toBe(7)
    expect(runbookExprs.length).toBeGreaterThan(10)
  })

  it.each([...dashboardExprs, ...ruleExprs, ...runbookExprs].map((s) => [s.where, s.expr]))(
    '%s parses and reads only contract series and labels',
    (_where, expr) => {
      expect(lintPromql(withoutGrafanaVariables(expr))).toEqual([])
    },
  )

  it('lists migrations from a contract metric and label', () => {
    for (const v of dashboardLabelValueQueries(dashboard)) {
      expect(METRICS[v.metric]?.labels, v.name).toHaveProperty(v.label)
    }
  })

  it('catches what it is meant to catch', () => {
    expect(lintPromql('rate(cutover_reads_total[5m]')).not.toEqual([])
    expect(lintPromql('rate(cutover_read_total[5m])')).toEqual(['not a contract series: cutover_read_total'])
    expect(lintPromql('cutover_operation_duration_seconds')).toEqual([
      'not a contract series: cutover_operation_duration_seconds',
    ])
    expect(lintPromql('cutover_reads_total{side="shadow"}')).toEqual(['cutover_reads_total has no label "side"'])
    expect(lintPromql('cutover_reads_total{served_from=~"shadow|primary"}')).toEqual([
      'cutover_reads_total{served_from}: "primary" is not one of legacy, shadow',
    ])
    expect(lintPromql('sum by (side) (cutover_reads_total)')).toEqual([
      'grouping by "side", which no contract metric has',
    ])
    expect(lintPromql('{__name__="cutover_reads_total"}')).toHaveLength(1)
    expect(
      lintPromql(
        'histogram_quantile(0.99, sum by (le) (rate(cutover_state_propagation_seconds_bucket{instance="a"}[5m])))',
      ),
    ).toEqual([])
  })
})

describe('the metrics contract', () => {
  it('is what the library registers: same names, types and labels', () => {
    const registry = new Registry()
    instrumentsFor(registry)
    const registered = Object.fromEntries(registry.getMetricsAsArray().map((m) => [m.name, m]))
    expect(Object.keys(registered).sort()).toEqual(Object.keys(METRICS).sort())
    for (const [name, contract] of Object.entries(METRICS)) {
      const metric = registered[name] as unknown as { type: string; labelNames: string[] }
      expect(metric.type, name).toBe(contract.type)
      expect([...metric.labelNames].sort(), name).toEqual(Object.keys(contract.labels).sort())
    }
  })

  it('lists the phases in the order of src/core/phases.ts (the dashboard maps their index to a name)', () => {
    expect([...PHASE_VALUES]).toEqual([...PHASES])
  })
})

describe('alerts and runbooks', () => {
  const rules = alertRules(rulesYaml)

  it.each(rules.map((r) => [r.alert, r]))(
    '%s has a severity, a summary, a description and a runbook_url to a runbook that exists',
    (_name, rule) => {
      expect(['critical', 'warning']).toContain(rule.labels?.severity)
      expect(rule.annotations?.summary).toMatch(/\{\{ \$labels\.migration \}\}/)
      expect(rule.annotations?.description?.length).toBeGreaterThan(80)
      const file = RUNBOOK_URL.exec(rule.annotations?.runbook_url ?? '')?.[1]
      expect(file, `runbook_url of ${rule.alert}`).toBeDefined()
      expect(existsSync(join(RUNBOOKS_DIR, file as string)), `runbooks/${file}`).toBe(true)
    },
  )

  it('has one runbook per alert', () => {
    const files = rules.map((r) => RUNBOOK_URL.exec(r.annotations?.runbook_url ?? '')?.[1])
    expect(new Set(files).size).toBe(rules.length)
  })

  it.each([...runbooks()])('runbooks/%s has the six sections, in order', (_file, text) => {
    // A procedure may list its steps between "How to confirm" and "Make it safe".
    const headings = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]).filter((h) => h !== 'Steps')
    expect(headings).toEqual(RUNBOOK_SECTIONS)
    expect(text).toMatch(/^# .+/)
    const steps = text.indexOf('\n## Steps\n')
    if (steps >= 0) expect(steps).toBeGreaterThan(text.indexOf('\n## How to confirm\n'))
    if (steps >= 0) expect(steps).toBeLessThan(text.indexOf('\n## Make it safe\n'))
  })

  it('runbooks/README.md links every runbook', () => {
    const index = readFileSync(join(RUNBOOKS_DIR, 'README.md'), 'utf8')
    for (const file of runbooks().keys()) expect(index, file).toContain(`](${file})`)
  })
})
