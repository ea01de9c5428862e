/** A child Node process running bench/propagation-child.ts through tsx, and the times at which it applied each state version. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const CHILD = fileURLToPath(new URL('../propagation-child.ts', import.meta.url))

interface Waiter {
  readonly version: number
  resolve(atMs: number): void
}

export class FollowerProcess {
  /** State version → Date.now() in the child when it applied that version. */
  readonly #applied = new Map<number, number>()
  #waiters: Waiter[] = []
  #stderr = ''
  #isReady = false
  readonly #exited: Promise<void>
  #hasExited = false

  private constructor(readonly child: ChildProcess) {
    this.#exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.#hasExited = true
        resolve()
      }),
    )
    child.stderr?.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-4000)
    })
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.#onLine(line))
  }

  /**
   * Starts a follower (`node --import tsx`, one process, not the tsx CLI's
   * two) and resolves once its Cutover is connected and following; `listenUrl`: a direct URL for its LISTEN.
   */
  static async start(
    url: string,
    schema: string,
    migration: string,
    timeoutMs: number,
    listenUrl?: string,
  ): Promise<FollowerProcess> {
    // The URLs (and their passwords) through the environment, not the command line that ps shows.
    const env = { ...process.env, CUTOVER_CHILD_URL: url, CUTOVER_CHILD_LISTEN_URL: listenUrl ?? '' }
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CHILD, schema, migration], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const follower = new FollowerProcess(child)
    await follower.#until(() => follower.#isReady, timeoutMs, 'to connect')
    return follower
  }

  #onLine(line: string): void {
    const [word, version, , , atMs] = line.split(' ')
    if (word === 'ready') this.#isReady = true
    if (word !== 'applied') return
    const v = Number(version)
    this.#applied.set(v, Number(atMs))
    this.#waiters = this.#waiters.filter((w) => {
      if (w.version > v) return true
      w.resolve(this.#applied.get(w.version) ?? Number(atMs))
      return false
    })
  }

  async #until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (this.#hasExited) throw new Error(`follower ${this.child.pid} exited before ${what}: ${this.#stderr.trim()}`)
      if (Date.now() > deadline)
        throw new Error(
          `follower ${this.child.pid} did not manage ${what} within ${timeoutMs} ms: ${this.#stderr.trim()}`,
        )
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** Date.now() in the child when it applied `version` (or a later version first); rejects after `timeoutMs`. */
  appliedAt(version: number, timeoutMs: number): Promise<number> {
    const known = [...this.#applied].find(([v]) => v >= version)
    if (known) return Promise.resolve(known[1])
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `follower ${this.child.pid} did not report applying state version ${version} within ${timeoutMs} ms ` +
              "(propagation-child.ts takes the time from the Cutover's info log of each applied change)",
          ),
        )
      }, timeoutMs)
      this.#waiters.push({
        version,
        resolve: (atMs) => {
          clearTimeout(timer)
          resolve(atMs)
        },
      })
    })
  }

  /** Closes its stdin (it closes its Cutover and exits); SIGTERM to this child only if it has not exited after `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.#hasExited) return
    this.child.stdin?.end()
    const timer = setTimeout(() => {
      if (!this.#hasExited) this.child.kill('SIGTERM')
    }, timeoutMs)
    await this.#exited
    clearTimeout(timer)
  }
}
