/** The README's runnable examples: each is a file of examples/ that the README quotes verbatim. */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

/** The absolute path of examples/<name>. */
export function examplePath(name: string): string {
  return fileURLToPath(new URL(`../../examples/${name}`, import.meta.url))
}

/** Expects the README to quote the example as written, importing 'cutover' where the file imports the sources. */
export async function expectQuotedInReadme(example: string): Promise<void> {
  const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
  const code = (await readFile(example, 'utf8'))
    .split('\n')
    .filter((l) => !l.startsWith('// The README'))
    .join('\n')
    .replaceAll("'../src/index.js'", "'cutover'")
  expect(readme).toContain(code.trim())
}
