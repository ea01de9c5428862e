/** `--metrics-port`: serves the job's metrics while it runs, and says where. */
import client, { Registry } from 'prom-client'
import { serveMetrics } from '../metrics/metrics-server.js'

export async function withMetrics<T>(port: number | undefined, run: (registry: Registry) => Promise<T>): Promise<T> {
  // Without a port the job counts on the process's global registry (what an embedding process, the demo say, serves).
  if (port === undefined) return run(client.register)
  const registry = new Registry()
  const server = await serveMetrics({ port, registry })
  process.stderr.write(`metrics: ${server.url}\n`)
  try {
    return await run(registry)
  } finally {
    await server.close()
  }
}
