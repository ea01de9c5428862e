/**
 * Issues 15 and 17: the precheck of a migration group judges a child's rows against its parents' rows as the
 * parents-first backfill would copy them, so a clean group enters dual_write without --force, and a child row whose
 * parent is missing from legacy too is still reported (23503) and keeps the group out.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { GateRefused } from '../../src/core/errors.js'
import { runPrechecks } from '../../src/jobs/groups/group-jobs.js'
import { runPrecheck } from '../../src/jobs/entry/precheck.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { setupStudio, studioRows } from '../support/studio-fixture.js'

const db = await freshDatabase()
const cli = (...args: string[]) =>
  runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'group precheck test'])
const quiet = { schema: 'cutover', actor: 'test', ackTimeoutMs: 0 }

interface PrecheckDoc {
  migration: string
  rows: number
  clean: boolean
  failingRows: number
  classes: { sqlstate: string; constraint: string | null; examples: string[][] }[]
}

async function shadowRows(): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    'SELECT ((SELECT count(*) FROM collection_session) + (SELECT count(*) FROM generation_flow) + (SELECT count(*) FROM generated_asset))::int AS n',
  )
  return row?.n ?? -1
}

async function phases(): Promise<string[]> {
  return (
    await db.query<{ s: string }>("SELECT migration || ' ' || phase AS s FROM cutover.state ORDER BY migration")
  ).map((r) => r.s)
}

beforeAll(async () => {
  await setupStudio(db)
  // 40 sessions, 120 flows, 360 images: several chunks of each member at --chunk-rows 50.
  const all = Array.from({ length: 40 }, (_, i) => studioRows(i + 1, 3, 3))
  await db.query('INSERT INTO studio_session SELECT * FROM json_populate_recordset(NULL::studio_session, $1)', [
    JSON.stringify(all.map((r) => r.session)),
  ])
  await db.query('INSERT INTO flow SELECT * FROM json_populate_recordset(NULL::flow, $1)', [
    JSON.stringify(all.flatMap((r) => r.flows)),
  ])
  await db.query('INSERT INTO generated_image SELECT * FROM json_populate_recordset(NULL::generated_image, $1)', [
    JSON.stringify(all.flatMap((r) => r.images)),
  ])
})

describe('precheck of a migration group', () => {
  it('reports a child row whose parent is missing from legacy too (23503, its key), and the group stays out of dual_write; no shadow is written', async () => {
    // A flow of session 9999, which exists nowhere: the legacy foreign key is bypassed as a bulk load would.
    await db.query(`BEGIN; SET LOCAL session_replication_role = replica;
      INSERT INTO flow VALUES (777777, 9999, 'orphan', 1); COMMIT`)
    const run = await cli('precheck', 'studio', '--chunk-rows', '50', '--json')
    expect(run.code).toBe(1)
    expect(run.stderr.trim()).toBe(
      'cutover: flows_v2: 1 legacy row(s) cannot be mapped or do not come back unchanged; fix them (or the mapping), then run: cutover precheck studio',
    )
    const doc = run.json<{ group: string; members: PrecheckDoc[] }>()
    expect(doc.members.map((m) => [m.migration, m.rows, m.clean])).toEqual([
      ['sessions_v2', 40, true],
      ['flows_v2', 121, false],
      ['assets_v2', 360, true],
    ])
    const flows = doc.members[1] as PrecheckDoc
    expect(flows.failingRows).toBe(1)
    expect(flows.classes.map((c) => [c.sqlstate, c.constraint, c.examples])).toEqual([
      ['23503', 'generation_flow_session_id_fkey', [['777777']]],
    ])
    expect(await shadowRows()).toBe(0)

    const before = await phases()
    await expect(advance(db.pool, { ...quiet, migration: 'studio' })).rejects.toBeInstanceOf(GateRefused)
    const refused = await cli('advance', 'studio')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('flows_v2')
    expect(await phases()).toEqual(before)
    expect(await shadowRows()).toBe(0)
  })

  it('once the orphan is gone, is clean for every member (children judged against their parents and grandparents), and the group enters dual_write without force', async () => {
    await db.query('DELETE FROM flow WHERE id = 777777')
    const results = await runPrechecks(db.pool, { ...quiet, migration: 'studio', chunkRows: 50 })
    expect(results.map((r) => [r.migration, r.rows, r.clean, r.failingRows])).toEqual([
      ['sessions_v2', 40, true, 0],
      ['flows_v2', 120, true, 0],
      ['assets_v2', 360, true, 0],
    ])
    // Each member's own last precheck event is the clean one the gate reads.
    const events = await db.query<{ s: string }>(
      "SELECT DISTINCT ON (migration) migration || ' ' || (details ->> 'clean') AS s FROM cutover.events WHERE kind = 'precheck' ORDER BY migration, id DESC",
    )
    expect(events.map((e) => e.s)).toEqual(['assets_v2 true', 'flows_v2 true', 'sessions_v2 true'])
    expect(await shadowRows()).toBe(0)

    // A member prechecked alone is judged the same way (its parents and grandparents inserted first, then rolled back).
    const alone = await runPrecheck(db.pool, { ...quiet, migration: 'assets_v2', chunkRows: 50 })
    expect([alone.rows, alone.clean]).toEqual([360, true])
    expect(await shadowRows()).toBe(0)

    const moved = await advance(db.pool, { ...quiet, migration: 'studio' })
    expect(moved.overriddenGate).toBeUndefined()
    expect(await phases()).toEqual(['assets_v2 dual_write', 'flows_v2 dual_write', 'sessions_v2 dual_write'])
    expect(await shadowRows()).toBe(0)
  })
})
