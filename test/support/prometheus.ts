/** A throw-away real Prometheus (the `prometheus` binary) scraping one /metrics URL every second. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { tempDir } from './temp-dir.js'

export interface RunningPrometheus {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  stop(): Promise<void>
}

/** Why no Prometheus can run here (no binary), or undefined. */
export function prometheusUnavailable(): string | undefined {
  return spawnSync('prometheus', ['--version']).status === 0
    ? undefined
    : 'no prometheus binary on PATH (.ci/run installs it)'
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
      .on('error', reject)
  })
}

/** Starts Prometheus scraping `metricsUrl` and resolves once it is ready (up to `readyMs`). */
export async function startPrometheus(metricsUrl: string, readyMs = 60_000): Promise<RunningPrometheus> {
  const dir = await tempDir('cutover-prometheus-')
  const target = new URL(metricsUrl)
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cutover
    metrics_path: '${target.pathname}'
    static_configs:
      - targets: ['${target.host}']
`,
  )
  const port = await freePort()
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  const deadline = Date.now() + readyMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`)
    if (
      await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, stop }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`prometheus not ready after ${readyMs} ms: ${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
