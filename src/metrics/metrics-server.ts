/** Serves a prom-client registry on /metrics, for applications (and CLI jobs) that have no metrics endpoint. */
import { createServer, type Server } from 'node:http'
import client, { type Registry } from 'prom-client'

export interface MetricsServer {
  /** `http://host:port/metrics` */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

export interface MetricsServerOptions {
  /** Port to listen on; 0 picks a free one. */
  readonly port: number
  /** Interface to bind; default 127.0.0.1 (use 0.0.0.0 to let Prometheus scrape from elsewhere). */
  readonly host?: string
  readonly registry?: Registry
}

export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const registry = options.registry ?? client.register
  const host = options.host ?? '127.0.0.1'
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at /metrics\n')
      return
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) =>
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  return {
    url: `http://${host}:${port}/metrics`,
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
