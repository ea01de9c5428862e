/**
 * Repair of a group whose shadows reference each other (issue 17, part 3): a
 * writer that bypassed the DAL inserted a session with its flow and image into
 * legacy, and deleted another session with its flows and images there. Verify
 * records all of it; one `cutover repair studio` must copy parents before
 * children and delete children before parents, or a foreign key between the
 * shadows refuses the write.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { runBackfills, runPrechecks, runVerifies } from '../../src/jobs/groups/group-jobs.js'
import { runRepair } from '../../src/jobs/entry/repair.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { setupStudio, studioRows } from '../support/studio-fixture.js'

const db = await freshDatabase()
const quiet = { schema: 'cutover', actor: 'test', ackTimeoutMs: 0 }

async function insertLegacy(rows: ReturnType<typeof studioRows>): Promise<void> {
  await db.query('INSERT INTO studio_session SELECT * FROM json_populate_record(NULL::studio_session, $1)', [
    JSON.stringify(rows.session),
  ])
  await db.query('INSERT INTO flow SELECT * FROM json_populate_recordset(NULL::flow, $1)', [JSON.stringify(rows.flows)])
  await db.query('INSERT INTO generated_image SELECT * FROM json_populate_recordset(NULL::generated_image, $1)', [
    JSON.stringify(rows.images),
  ])
}

beforeAll(async () => {
  await setupStudio(db)
  for (let s = 1; s <= 20; s++) await insertLegacy(studioRows(s))
  await runPrechecks(db.pool, { ...quiet, migration: 'studio' })
  await advance(db.pool, { ...quiet, migration: 'studio' })
  await runBackfills(db.pool, { ...quiet, migration: 'studio' })
  // A writer that bypasses the DAL: a new session tree reaches legacy only, and session 5's tree leaves legacy only.
  await insertLegacy(studioRows(900, 1, 1))
  await db.query('DELETE FROM generated_image WHERE flow_id IN (SELECT id FROM flow WHERE session_id = 5)')
  await db.query('DELETE FROM flow WHERE session_id = 5')
  await db.query('DELETE FROM studio_session WHERE id = 5')
  const found = await runVerifies(db.pool, { ...quiet, migration: 'studio' })
  expect(found.map((v) => [v.migration, v.counts.missing_in_shadow, v.counts.missing_in_legacy])).toEqual([
    ['sessions_v2', 1, 1],
    ['flows_v2', 1, 2],
    ['assets_v2', 1, 4],
  ])
})

describe('repair of a group whose shadows reference each other', () => {
  it('a member repaired alone is refused by the foreign keys, and writes nothing', async () => {
    // Flow 90000's session is not in the shadow yet, and session 5's flows still have images there:
    // every one of the member's writes breaks a key between the shadows.
    await expect(runRepair(db.pool, { ...quiet, migration: 'flows_v2' })).rejects.toMatchObject({ code: '23503' })
    const flows = await db.query<{ id: string }>(
      'SELECT id::text FROM generation_flow WHERE session_id IN (5, 900) ORDER BY id',
    )
    expect(flows.map((f) => f.id)).toEqual(['500', '501'])
  })

  it('one `cutover repair <group>` copies parents first and deletes children first, and verify is then clean for every member', async () => {
    const open = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        (
          await db.query<{ migration: string; n: number }>(
            'SELECT migration, count(*)::int AS n FROM cutover.divergences WHERE repaired_at IS NULL GROUP BY migration',
          )
        ).map((r) => [r.migration, r.n]),
      )
    const before = await open()
    expect(before).toEqual({ sessions_v2: 2, flows_v2: 3, assets_v2: 5 })
    const repaired = await runCli(['repair', 'studio', '--json', '--database-url', db.url, '--actor', 'test'])
    expect(repaired.stderr).toBe('')
    expect(repaired.code).toBe(0)
    const result = repaired.json<{
      group: string
      members: { migration: string; rows: number; actions: { action: string }[] }[]
    }>()
    expect(result.group).toBe('studio')
    expect(result.members.map((m) => [m.migration, m.rows])).toEqual([
      ['sessions_v2', 2],
      ['flows_v2', 3],
      ['assets_v2', 5],
    ])
    expect(result.members.flatMap((m) => m.actions.map((a) => a.action)).sort()).toEqual([
      ...Array(3).fill('copy'),
      ...Array(7).fill('delete'),
    ])
    const verified = await runVerifies(db.pool, { ...quiet, migration: 'studio' })
    expect(verified.map((v) => [v.migration, v.clean])).toEqual([
      ['sessions_v2', true],
      ['flows_v2', true],
      ['assets_v2', true],
    ])
    expect(await open()).toEqual({})
  })
})
