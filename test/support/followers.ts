/** Child processes running test/support/follower-child.ts: what each applied and when, and how it follows state. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const CHILD = fileURLToPath(new URL('./follower-child.ts', import.meta.url))

export class Follower {
  /** State version → the child's Date.now() when it applied it. */
  readonly applied = new Map<number, number>()
  followMode = ''
  statementMode = ''
  #ready = false
  #stderr = ''
  #exited = false
  readonly #exit: Promise<void>

  private constructor(readonly child: ChildProcess) {
    this.#exit = new Promise((resolve) =>
      child.once('exit', () => {
        this.#exited = true
        resolve()
      }),
    )
    child.stderr?.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-4000)
    })
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = JSON.parse(line) as {
        ready?: number
        statementMode?: string
        applied?: number
        atMs?: number
        followMode?: string
      }
      if (m.ready !== undefined) {
        this.#ready = true
        this.statementMode = m.statementMode ?? ''
      }
      if (m.applied !== undefined) this.applied.set(m.applied, m.atMs ?? Number.NaN)
      if (m.followMode !== undefined) this.followMode = m.followMode
    })
  }

  /** Starts a follower with its pool on `url` and LISTEN on `listenUrl` (default: the pool's URL); resolves once connected. */
  static async start(url: string, listenUrl?: string): Promise<Follower> {
    // The URLs (and their passwords) through the environment, not the command line that ps shows.
    const env = { ...process.env, CUTOVER_CHILD_URL: url, CUTOVER_CHILD_LISTEN_URL: listenUrl ?? '-' }
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CHILD], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    const follower = new Follower(child)
    await follower.until(() => follower.#ready, 60_000, 'connect')
    return follower
  }

  /** Waits for `condition` up to `timeoutMs`; throws naming `what` (and the child's stderr) when it is not met. */
  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (this.#exited)
        throw new Error(`follower ${this.child.pid} exited before it could ${what}: ${this.#stderr.trim()}`)
      if (Date.now() > deadline)
        throw new Error(`follower ${this.child.pid} did not ${what} within ${timeoutMs} ms: ${this.#stderr.trim()}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** The child's Date.now() when it applied `version` (waiting for it up to `timeoutMs`). */
  async appliedAt(version: number, timeoutMs: number): Promise<number> {
    await this.until(() => this.applied.has(version), timeoutMs, `apply state version ${version}`)
    return this.applied.get(version) as number
  }

  /** Closes its stdin (it closes its Cutover and exits); SIGTERM to this child if it has not exited within 10 s. */
  async stop(): Promise<void> {
    if (this.#exited) return
    this.child.stdin?.end()
    const timer = setTimeout(() => {
      if (!this.#exited) this.child.kill('SIGTERM')
    }, 10_000)
    await this.#exit
    clearTimeout(timer)
  }
}
