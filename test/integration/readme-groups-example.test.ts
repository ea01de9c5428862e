import { describe, expect, it } from 'vitest'
import { freshDatabase } from '../support/database.js'
import { examplePath, expectQuotedInReadme } from '../support/readme-example.js'
import { runTsx } from '../support/run-tsx.js'

const db = await freshDatabase()
const example = examplePath('groups.ts')

describe('the README group example', () => {
  it('is the file examples/groups.ts, verbatim', async () => {
    await expectQuotedInReadme(example)
  })

  it('runs as written: one group ramped, a join read from one side, both members rolled back by one call', async () => {
    const result = await runTsx(example, [], { DATABASE_URL: db.url, CUTOVER_LOG_LEVEL: 'silent' })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("name: 'spring', budget_cents: 1250, title: 'hero shots'")
    expect(result.stdout).toContain("[ 'flows_v2', 'sessions_v2' ] { phase: 'dual_write', readPercent: 0 }")
    expect(
      await db.query("SELECT count(*)::int AS n FROM cutover.events WHERE group_name = 'studio' AND kind = 'rollback'"),
    ).toEqual([{ n: 1 }])
  })
})
