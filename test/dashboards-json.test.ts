import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildCutoverDashboard, renderCutoverDashboard } from '../scripts/observability/cutover-dashboard.js'
import { DASHBOARD_JSON } from '../scripts/observability/promql-sources.js'

describe('dashboards/cutover.json', () => {
  it('is exactly what the dashboard code emits (run `npm run dashboards` after changing it)', () => {
    expect(readFileSync(DASHBOARD_JSON, 'utf8')).toBe(renderCutoverDashboard())
  })

  it('is importable by current Grafana: a schema version, a stable uid, a Prometheus data source variable and a migration variable', () => {
    const d = buildCutoverDashboard()
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39)
    expect(d.uid).toBe('cutover')
    const variables = d.templating?.list ?? []
    expect(variables.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' })
    expect(variables.find((v) => v.name === 'migration')).toMatchObject({
      type: 'query',
      multi: true,
      includeAll: true,
    })
  })

  it('gives every panel a unique id, the datasource variable, and a place on the 24-column grid', () => {
    const panels = buildCutoverDashboard().panels ?? []
    const ids = panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const panel of panels) {
      const { gridPos } = panel as { gridPos?: { x: number; w: number } }
      expect(gridPos && gridPos.x + gridPos.w <= 24, `panel ${panel.id}`).toBe(true)
      if (panel.type === 'row') continue
      expect(panel.datasource, `panel ${panel.id}`).toEqual({ type: 'prometheus', uid: '${datasource}' })
      for (const target of (panel as { targets?: { datasource?: unknown; refId?: string }[] }).targets ?? []) {
        expect(target.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' })
        expect(target.refId).toMatch(/^[A-Z]$/)
      }
    }
  })

  it('shows each thing the issue asks for, by panel title', () => {
    const titles = (buildCutoverDashboard().panels ?? []).map((p) => (p as { title?: string }).title)
    expect(titles).toEqual(
      expect.arrayContaining([
        'Phase',
        'Shadow read %',
        'Reads by side',
        'Divergences by source',
        'Read latency p50 / p99',
        'Write latency p50 / p99',
        'Read p99 ratio shadow ÷ legacy',
        'Errors by side',
        'Backfill progress',
        'Backfill rate',
        'Verify results',
        'Rollbacks by trigger',
        'State propagation time',
        'Consistency rate',
      ]),
    )
  })
})
