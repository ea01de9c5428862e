import { describe, expect, it } from 'vitest'
import { freshDatabase } from '../support/database.js'
import { examplePath, expectQuotedInReadme } from '../support/readme-example.js'
import { runTsx } from '../support/run-tsx.js'

const db = await freshDatabase()
const example = examplePath('quickstart.ts')

describe('the README example', () => {
  it('is the file examples/quickstart.ts, verbatim', async () => {
    await expectQuotedInReadme(example)
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
