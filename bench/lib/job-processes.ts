/** N worker processes (bench/job-child.ts) sharing one backfill or verify job, started untimed and then released together. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const CHILD = fileURLToPath(new URL('../job-child.ts', import.meta.url))

export interface JobProcessesDone {
  /** The job's rows, as the last process to finish saw them. */
  readonly rows: number
  /** The largest peak RSS among the processes, in MiB. */
  readonly peakRssMiB: number
}

export interface ReadyJobProcesses {
  /** Releases every process at once and resolves when all have finished. */
  go(): Promise<JobProcessesDone>
  /** Kills any still running (after a failure). */
  kill(): void
}

function watch(child: ChildProcess): { ready: Promise<void>; done: Promise<{ rows: number; rssKiB: number }> } {
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`job process ${child.pid} exited ${code}: ${stderr.trim()}`))),
  )
  exited.catch(() => undefined)
  const ready = Promise.race([
    new Promise<void>((resolve) =>
      lines.on('line', (l) => {
        if (l === 'ready') resolve()
      }),
    ),
    exited,
  ])
  const done = Promise.race([
    new Promise<{ rows: number; rssKiB: number }>((resolve) =>
      lines.on('line', (l) => {
        const [word, rows, rss] = l.split(' ')
        if (word === 'done') resolve({ rows: Number(rows), rssKiB: Number(rss) })
      }),
    ),
    exited,
  ])
  done.catch(() => undefined)
  return { ready, done }
}

/** Starts `count` processes and resolves once each is connected and waiting for `go`. */
export async function startJobProcesses(
  url: string,
  schema: string,
  migration: string,
  kind: 'backfill' | 'verify',
  count: number,
  parallel?: number,
): Promise<ReadyJobProcesses> {
  const args = [CHILD, schema, migration, kind, ...(parallel === undefined ? [] : [String(parallel)])]
  // The URL (and its password) through the environment, not the command line that ps shows.
  const env = { ...process.env, CUTOVER_CHILD_URL: url }
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', TSX_LOADER, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }),
  )
  const watched = children.map(watch)
  const kill = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  }
  try {
    await Promise.all(watched.map((w) => w.ready))
  } catch (error) {
    kill()
    throw error
  }
  return {
    kill,
    async go() {
      for (const c of children) c.stdin?.write('go\n')
      try {
        const done = await Promise.all(watched.map((w) => w.done))
        return { rows: Math.max(...done.map((d) => d.rows)), peakRssMiB: Math.max(...done.map((d) => d.rssKiB)) / 1024 }
      } catch (error) {
        kill()
        throw error
      }
    },
  }
}
