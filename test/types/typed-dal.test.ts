import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const fixture = join(root, 'test/types/typed-dal.fixture.ts')
const TSC = join(root, 'node_modules/typescript/bin/tsc')
const EXPECT_ERROR = /^\s*\/\/ @ts-expect-error .*"([^"]+)"\s*$/

// .tmp/ is git-ignored and outside tsconfig's include; two levels deep, like test/types/, so the fixture's imports resolve unchanged.
await mkdir(join(root, '.tmp'), { recursive: true })
const dir = await mkdtemp(join(root, '.tmp', 'typed-dal-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

function tsc(project: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSC, '-p', project, '--pretty', 'false'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

/** tsc's diagnostics by line of `file`, each with its continuation lines. */
function diagnosticsByLine(output: string, file: string): Map<number, string> {
  const byLine = new Map<number, string>()
  let current: number | undefined
  for (const line of output.split('\n')) {
    const head = /^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/.exec(line)
    if (head) {
      current = head[1]?.endsWith(file) ? Number(head[2]) : -1
      byLine.set(current, `${byLine.get(current) ?? ''}${head[3]}\n`)
    } else if (current !== undefined && line.startsWith(' ')) {
      byLine.set(current, `${byLine.get(current) ?? ''}${line}\n`)
    }
  }
  return byLine
}

describe("the DAL typed by the application's Kysely database type", () => {
  it('compiles each typed and untyped use, and refuses each misspelt column, naming it', async () => {
    const source = await readFile(fixture, 'utf8')
    const lines = source.split('\n')
    // Line numbers (1-based) of each use that must not compile, and the word its error must name.
    const expected = new Map<number, string>()
    lines.forEach((line, i) => {
      const match = EXPECT_ERROR.exec(line)
      if (match) expected.set(i + 2, match[1] as string)
    })
    expect(expected.size).toBeGreaterThanOrEqual(10)
    // The fixture as written (an unused @ts-expect-error is an error too), and a copy without the
    // expect-error comments (blank lines instead, so line numbers stay) where each marked use must fail.
    await writeFile(join(dir, 'stripped.ts'), lines.map((l) => (EXPECT_ERROR.test(l) ? '' : l)).join('\n'))
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true, rootDir: '../..' },
        include: [],
        files: ['../../test/types/typed-dal.fixture.ts', 'stripped.ts', '../../src/core/murmurhash3js.d.ts'],
      }),
    )
    const { code, output } = await tsc(join(dir, 'tsconfig.json'))
    const errors = diagnosticsByLine(output, 'stripped.ts')
    for (const [line, word] of expected) {
      expect(
        errors.get(line) ?? '(it compiled)',
        `line ${line} of the fixture must not compile (its error naming "${word}")`,
      ).toContain(word)
    }
    // Nothing else fails: not the fixture as written, not a typed or untyped use in the copy.
    expect(
      [...errors.keys()].filter((line) => !expected.has(line)),
      output,
    ).toEqual([])
    expect(code).toBe(2)
  }, 180_000)
})
