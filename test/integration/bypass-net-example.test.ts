import { describe, expect, it } from 'vitest'
import { freshDatabase } from '../support/database.js'
import { examplePath, expectQuotedInReadme } from '../support/readme-example.js'
import { runTsx } from '../support/run-tsx.js'

const db = await freshDatabase()
const example = examplePath('bypass-net.ts')

describe('the README bypass-net example', () => {
  it('is the file examples/bypass-net.ts, verbatim', async () => {
    await expectQuotedInReadme(example)
  })

  it("runs as written: the cron job's rows reach the shadow, are counted, and the net comes off", async () => {
    const result = await runTsx(example, [], { DATABASE_URL: db.url, CUTOVER_LOG_LEVEL: 'silent' })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("full_name: 'Grace B. Hopper'")
    expect(result.stdout).toContain("application_name: 'nightly_import', op: 'insert', writes: '2'")
    expect(result.stdout).toContain('verify clean: true')
    expect(await db.query("SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE 'cutover_bypass_%'")).toEqual([
      { n: 0 },
    ])
  })
})
