/** `--metrics-port`: serves a fresh registry while a long job runs, and says where. */
import { Registry } from 'prom-client'
import { serveMetrics } from '../metrics/metrics-server.js'

export async function withMetrics<T>(port: number | undefined, run: (registry: Registry) => Promise<T>): Promise<T> {
  const registry = new Registry()
  if (port === undefined) return run(registry)
  const server = await serveMetrics({ port, registry })
  process.stderr.write(`metrics: ${server.url}\n`)
  try {
    return await run(registry)
  } finally {
    await server.close()
  }
}
