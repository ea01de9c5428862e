import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { freshDatabase } from '../support/database.js'
import { runTsx } from '../support/run-tsx.js'

const db = await freshDatabase()
const example = fileURLToPath(new URL('../../examples/quickstart.ts', import.meta.url))

describe('the README example', () => {
  it('is the file examples/quickstart.ts, verbatim', async () => {
    const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
    const code = (await readFile(example, 'utf8')).split('\n').filter((l) => !l.startsWith('// The README')).join('\n').replaceAll("'../src/index.js'", "'cutover'")
    expect(readme).toContain(code.trim())
  })

  it('runs as written and reads the rows back from the shadow in the legacy shape', async () => {
    const result = await runTsx(example, [], { DATABASE_URL: db.url, CUTOVER_LOG_LEVEL: 'silent' })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("full_name: 'Alan Turing'")
    expect(result.stdout).toContain("email: 'turing@example.com'")
    expect(await db.query('SELECT id::text, first_name, last_name, email FROM users_v2 ORDER BY id')).toEqual([
      { id: '1', first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' },
      { id: '2', first_name: 'Alan', last_name: 'Turing', email: 'turing@example.com' },
    ])
  })
})
