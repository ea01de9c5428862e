/**
 * A real PgBouncer in transaction mode in front of the test server: the one
 * CI started (CUTOVER_TEST_POOLER_URL), else one started here when
 * /usr/sbin/pgbouncer exists (as the `postgres` user when run as root), else
 * none, and the tests that need it skip, saying why.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { userInfo, tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from '../../src/demo/embedded-server.js'

export const PGBOUNCER_BIN = process.env.CUTOVER_TEST_PGBOUNCER ?? '/usr/sbin/pgbouncer'

/** Why the pooler tests skip (said on stderr), or undefined when a pooler can be had. */
export function poolerUnavailable(): string | undefined {
  if (process.env.CUTOVER_TEST_POOLER_URL) return undefined
  if (existsSync(PGBOUNCER_BIN)) return undefined
  const reason = `no PgBouncer: set CUTOVER_TEST_POOLER_URL (a pgbouncer in pool_mode=transaction in front of the test server) or install pgbouncer (${PGBOUNCER_BIN})`
  console.warn(`[pooler tests skipped] ${reason}`)
  return reason
}

export interface Pooler {
  /** The connection string of `database` through the pooler. */
  url(database: string): string
  /** The pooler's server connections to `database`: their backend pids (SHOW SERVERS on its admin console). */
  serverPids(database: string): Promise<number[]>
  /** Connections to one database the pooler keeps at most (its pool size). */
  readonly poolSize: number
  stop(): Promise<void>
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

async function adminQuery<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const u = new URL(url)
  u.pathname = '/pgbouncer'
  // The admin console speaks the simple protocol only.
  const client = new pg.Client({ connectionString: u.toString() })
  await client.connect()
  try {
    return (await client.query<R>({ text, queryMode: 'simple' } as pg.QueryConfig)).rows
  } finally {
    await client.end()
  }
}

function poolerFrom(url: string, poolSize: number, stop: () => Promise<void>): Pooler {
  return {
    url: (database) => withDatabase(url, database),
    poolSize,
    async serverPids(database) {
      const rows = await adminQuery<{ database: string; remote_pid: string }>(url, 'SHOW SERVERS')
      return rows.filter((r) => r.database === database).map((r) => Number(r.remote_pid))
    },
    stop,
  }
}

/** Starts (or finds) a pooler in front of the server of `adminUrl`; undefined when there is none (see poolerUnavailable). */
export async function startPooler(adminUrl: string): Promise<Pooler | undefined> {
  const fromEnv = process.env.CUTOVER_TEST_POOLER_URL
  if (fromEnv) return poolerFrom(fromEnv, Number(process.env.CUTOVER_TEST_POOLER_POOL_SIZE ?? 8), async () => undefined)
  if (!existsSync(PGBOUNCER_BIN)) return undefined
  const server = new URL(adminUrl)
  const dir = await mkdtemp(join(tmpdir(), 'cutover-pgbouncer-'))
  await chmod(dir, 0o755)
  const port = await freePort()
  const poolSize = 8
  const password = decodeURIComponent(server.password)
  const user = decodeURIComponent(server.username)
  // A made-up libpq-style value must be quoted when it holds spaces or quotes; test passwords do not.
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432} user=${user} password=${password}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      `admin_users = ${user}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 2000',
      'ignore_startup_parameters = extra_float_digits',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  )
  const asRoot = userInfo().uid === 0
  if (asRoot) chownSync(dir, Number(await idOf('postgres', '-u')), Number(await idOf('postgres', '-g')))
  const child: ChildProcess = spawn(
    PGBOUNCER_BIN,
    [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/postgres`
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    await rm(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await adminQuery(url, 'SHOW VERSION')
      break
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const log = await readFile(join(dir, 'pgbouncer.log'), 'utf8').catch(() => '')
        await stop()
        throw new Error(`pgbouncer did not start: ${stderr}${log.slice(-2000)}`, { cause: error })
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return poolerFrom(url, poolSize, stop)
}

async function idOf(user: string, flag: '-u' | '-g'): Promise<string> {
  const child = spawn('id', [flag, user], { stdio: ['ignore', 'pipe', 'ignore'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  await new Promise((resolve) => child.once('close', resolve))
  return out.trim()
}
