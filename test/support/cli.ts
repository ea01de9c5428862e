/** Runs the real `cutover` binary as a child process, as an operator would. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { carriesPassword } from '../../src/core/connection-password.js'

const BIN = fileURLToPath(new URL('../../bin/cutover.js', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** stdout parsed as the one JSON document of --json. */
  json<T = Record<string, unknown>>(): T
}

export interface RunOptions {
  /** SIGKILL the process after this long. */
  readonly signalAfterMs?: number
  /** Polled every 100 ms; SIGKILL the process once it resolves true. */
  readonly killWhen?: () => Promise<boolean>
  /** Leave a `--database-url` that carries a password on the command line (only to test the CLI's warning about it). */
  readonly passwordInArguments?: boolean
}

/**
 * A `--database-url` carrying a password goes to the child in DATABASE_URL instead, as the CLI asks operators to do:
 * on the command line `ps` shows it to every user of the machine (and the CLI would warn about it on stderr).
 */
function passwordsToEnvironment(args: readonly string[]): { args: string[]; env: NodeJS.ProcessEnv } {
  const at = args.indexOf('--database-url')
  const url = at < 0 ? undefined : args[at + 1]
  if (url === undefined || !carriesPassword(url)) return { args: [...args], env: {} }
  return { args: [...args.slice(0, at), ...args.slice(at + 2)], env: { DATABASE_URL: url } }
}

export function runCli(
  givenArgs: readonly string[],
  givenEnv: NodeJS.ProcessEnv = {},
  options: RunOptions = {},
): Promise<CliResult> {
  const moved = options.passwordInArguments ? { args: [...givenArgs], env: {} } : passwordsToEnvironment(givenArgs)
  const args = moved.args
  const env = { ...givenEnv, ...moved.env }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      // The sources, unless the run says dist/ was just built from them (CI builds once: each CLI start is then faster).
      env: {
        ...process.env,
        DATABASE_URL: '',
        CUTOVER_LOG_LEVEL: 'silent',
        CUTOVER_FROM_SOURCE: process.env.CUTOVER_TEST_CLI_DIST === '1' ? '' : '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    if (options.signalAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), options.signalAfterMs)
    let running = true
    const poll = async (): Promise<void> => {
      while (running && options.killWhen) {
        await new Promise((r) => setTimeout(r, 100))
        if (running && (await options.killWhen().catch(() => false))) {
          child.kill('SIGKILL')
          return
        }
      }
    }
    void poll()
    child.on('close', () => {
      running = false
    })
    child.on('close', (code) => resolve({ code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T }))
  })
}

/**
 * Runs a command that must be refused: exit `code`, one stderr line matching
 * `message`, no stack trace, and `world()` (a snapshot of what it could have
 * written) the same before and after. Returns the result.
 */
export async function expectRefusedUnchanged(
  run: () => Promise<CliResult>,
  world: () => Promise<string>,
  code: number,
  message: RegExp,
): Promise<CliResult> {
  const before = await world()
  const result = await run()
  expect(result.code).toBe(code)
  expect(result.stderr.trim()).toMatch(message)
  expect(result.stderr.trim().split('\n')).toHaveLength(1)
  expect(result.stderr).not.toMatch(/\n\s+at /)
  expect(await world()).toBe(before)
  return result
}
