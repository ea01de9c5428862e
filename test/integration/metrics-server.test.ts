import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { instrumentsFor } from '../../src/metrics/instruments.js'
import { serveMetrics } from '../../src/metrics/metrics-server.js'

describe('the metrics endpoint', () => {
  it('serves the registry on /metrics and 404 elsewhere, and registers each instrument once per registry', async () => {
    const registry = new Registry()
    const a = instrumentsFor(registry)
    expect(instrumentsFor(registry)).toBe(a)
    a.reads.inc({ migration: 'm', served_from: 'shadow' }, 3)
    const server = await serveMetrics({ port: 0, registry })
    try {
      const response = await fetch(server.url)
      expect(response.status).toBe(200)
      const body = await response.text()
      expect(body).toContain('cutover_reads_total{migration="m",served_from="shadow"} 3')
      expect(body).toContain('# TYPE cutover_operation_duration_seconds histogram')
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404)
    } finally {
      await server.close()
    }
  })
})
