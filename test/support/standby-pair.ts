/**
 * A throw-away PostgreSQL primary with one real streaming standby
 * (`pg_basebackup -R`), from the PostgreSQL 15 binaries, in a temporary
 * directory removed on stop; run as the `postgres` user when the tests run as
 * root. The suite's own server may be a managed one that cannot be made a
 * primary, so the replica-lag tests bring their own pair.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from '../../src/demo/embedded-server.js'

export const PG_BIN = process.env.CUTOVER_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin'
const BINARIES = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres']

/** Why the standby tests skip (said on stderr), or undefined when a pair can be started. */
export function standbyUnavailable(): string | undefined {
  const missing = BINARIES.filter((b) => !existsSync(join(PG_BIN, b)))
  if (missing.length === 0) return undefined
  const reason = `no PostgreSQL binaries for a primary and standby: ${missing.join(', ')} missing from ${PG_BIN} (set CUTOVER_TEST_PG_BIN, or install postgresql-15)`
  console.warn(`[standby tests skipped] ${reason}`)
  return reason
}

export interface StandbyPair {
  /** Superuser connection string of the primary's `postgres` database. */
  readonly primaryUrl: string
  /** Superuser connection string of the standby (read-only; for pg_wal_replay_pause/resume). */
  readonly standbyUrl: string
  /** The standby's application_name on the primary (its cluster_name). */
  readonly standbyName: string
  stop(): Promise<void>
}

async function idOf(user: string, flag: '-u' | '-g'): Promise<number> {
  const child = spawn('id', [flag, user], { stdio: ['ignore', 'pipe', 'ignore'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  await new Promise((resolve) => child.once('close', resolve))
  return Number(out.trim())
}

/** Runs a PostgreSQL binary to completion, rejecting with its output when it fails. */
async function run(ids: { uid: number; gid: number } | undefined, bin: string, args: string[]): Promise<void> {
  const child = spawn(join(PG_BIN, bin), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(ids ?? {}),
    env: { ...process.env, LC_ALL: 'C' },
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  if (code !== 0) throw new Error(`${bin} exited ${code}: ${output.trim()}`)
}

async function waitFor(url: string, text: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs
  for (;;) {
    const client = new pg.Client({ connectionString: url })
    try {
      await client.connect()
      const { rows } = await client.query<{ ok: boolean }>(text)
      if (rows[0]?.ok) return
    } catch {
      // not up yet
    } finally {
      await client.end().catch(() => undefined)
    }
    if (Date.now() > until) throw new Error(`timed out waiting for: ${text}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export async function startStandbyPair(): Promise<StandbyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'cutover-standby-'))
  const ids =
    userInfo().uid === 0 ? { uid: await idOf('postgres', '-u'), gid: await idOf('postgres', '-g') } : undefined
  if (ids) await chown(dir, ids.uid, ids.gid)
  const primary = join(dir, 'primary')
  const standby = join(dir, 'standby')
  const [primaryPort, standbyPort] = [await freePort(), await freePort()]
  const standbyName = 'standby1'
  const started: string[] = []
  const stop = async (): Promise<void> => {
    for (const data of started.reverse())
      await run(ids, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
  const serverOptions = (port: number, extra: string): string =>
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40 -c shared_buffers=32MB ${extra}`
  try {
    // initdb's pg_hba trusts local and 127.0.0.1 connections, replication ones included.
    await run(ids, 'initdb', ['-D', primary, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
    await run(ids, 'pg_ctl', [
      '-D',
      primary,
      '-l',
      join(dir, 'primary.log'),
      '-w',
      '-o',
      serverOptions(primaryPort, ''),
      'start',
    ])
    started.push(primary)
    await run(ids, 'pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      'postgres',
      '-D',
      standby,
      '-R',
      '-X',
      'stream',
      '--no-sync',
    ])
    // Status every second (default 10 s), so the primary's replay_lag follows a paused and resumed replay closely.
    await run(ids, 'pg_ctl', [
      '-D',
      standby,
      '-l',
      join(dir, 'standby.log'),
      '-w',
      '-o',
      serverOptions(standbyPort, `-c cluster_name=${standbyName} -c hot_standby=on -c wal_receiver_status_interval=1`),
      'start',
    ])
    started.push(standby)
    const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`
    await waitFor(
      primaryUrl,
      `SELECT EXISTS (SELECT 1 FROM pg_stat_replication WHERE application_name = '${standbyName}' AND state = 'streaming') AS ok`,
      60_000,
    )
    return { primaryUrl, standbyUrl: `postgres://postgres@127.0.0.1:${standbyPort}/postgres`, standbyName, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
