/** A TCP proxy in front of the test server that can go silent (forward nothing, close nothing), as a lost network path does. */
import { createServer, connect, type Socket } from 'node:net'

export interface FreezableProxy {
  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string
  /** From now on, bytes either way are dropped and no connection is closed. */
  freeze(): void
  stop(): Promise<void>
}

export async function startFreezableProxy(targetUrl: string): Promise<FreezableProxy> {
  const target = new URL(targetUrl)
  let frozen = false
  const sockets = new Set<Socket>()
  const server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 5432), target.hostname)
    for (const s of [inbound, outbound]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => sockets.delete(s))
    }
    inbound.on('data', (d: Buffer) => {
      if (!frozen) outbound.write(d)
    })
    outbound.on('data', (d: Buffer) => {
      if (!frozen) inbound.write(d)
    })
    inbound.on('end', () => {
      if (!frozen) outbound.end()
    })
    outbound.on('end', () => {
      if (!frozen) inbound.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url(url) {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    freeze() {
      frozen = true
    },
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
