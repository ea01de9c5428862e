import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { freshDatabase } from '../support/database.js'
import { runTsx } from '../support/run-tsx.js'

const db = await freshDatabase()
const example = fileURLToPath(new URL('../../examples/groups.ts', import.meta.url))

describe('the README group example', () => {
  it('is the file examples/groups.ts, verbatim', async () => {
    const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
    const code = (await readFile(example, 'utf8')).split('\n').filter((l) => !l.startsWith('// The README')).join('\n').replaceAll("'../src/index.js'", "'cutover'")
    expect(readme).toContain(code.trim())
  })

  it('runs as written: one group ramped, a join read from one side, both members rolled back by one call', async () => {
    const result = await runTsx(example, [], { DATABASE_URL: db.url, CUTOVER_LOG_LEVEL: 'silent' })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("name: 'spring', budget_cents: 1250, title: 'hero shots'")
    expect(result.stdout).toContain("[ 'flows_v2', 'sessions_v2' ] { phase: 'dual_write', readPercent: 0 }")
    expect(await db.query("SELECT count(*)::int AS n FROM cutover.events WHERE group_name = 'studio' AND kind = 'rollback'")).toEqual([{ n: 1 }])
  })
})
