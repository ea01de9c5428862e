import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import type { Cutover } from '../../src/cutover/cutover.js'
import { backfillOrder, runPrechecks, runVerifies } from '../../src/jobs/groups/group-jobs.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover } from '../support/orders-fixture.js'
import { setupStudio, studioRows } from '../support/studio-fixture.js'
import { until } from '../support/until.js'

const db = await freshDatabase()
const quiet = { schema: 'cutover', actor: 'test', ackTimeoutMs: 0 }
let cutover: Cutover
let close: () => Promise<void>

beforeAll(async () => {
  await setupStudio(db)
  // 300 sessions, 900 flows, 2,700 images in the legacy tables before dual writes start.
  const all = Array.from({ length: 300 }, (_, i) => studioRows(i + 1, 3, 3))
  await db.query('INSERT INTO studio_session SELECT * FROM json_populate_recordset(NULL::studio_session, $1)', [
    JSON.stringify(all.map((r) => r.session)),
  ])
  await db.query('INSERT INTO flow SELECT * FROM json_populate_recordset(NULL::flow, $1)', [
    JSON.stringify(all.flatMap((r) => r.flows)),
  ])
  await db.query('INSERT INTO generated_image SELECT * FROM json_populate_recordset(NULL::generated_image, $1)', [
    JSON.stringify(all.flatMap((r) => r.images)),
  ])
  const connected = await connectCutover(db)
  cutover = connected.cutover
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
  // The group's precheck judges each child row against the parent rows it references, so dual_write needs no force.
  await runPrechecks(db.pool, { ...quiet, migration: 'studio' })
  await advance(db.pool, { ...quiet, migration: 'studio' })
  await until(
    () => ['sessions_v2', 'flows_v2', 'assets_v2'].every((m) => cutover.state(m)?.phase === 'dual_write'),
    3000,
    'every member in dual_write',
  )
})
afterAll(async () => close())

describe('backfill of a group whose shadows reference each other', () => {
  it('copies parents before children', async () => {
    expect(await backfillOrder(db.pool, 'cutover', 'studio')).toEqual(['sessions_v2', 'flows_v2', 'assets_v2'])
  })

  it('with writers inserting sessions, flows and images through the DAL meanwhile, leaves every foreign key between the shadows valid and verify clean', async () => {
    const [sessions, flows, assets] = await Promise.all(
      ['sessions_v2', 'flows_v2', 'assets_v2'].map((m) => cutover.migration(m)),
    )
    let stop = false
    let written = 0
    const writer = async (w: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        const rows = studioRows(100_000 + w * 10_000 + n, 2, 2)
        await sessions!.insert(rows.session)
        for (const f of rows.flows) await flows!.insert(f)
        for (const image of rows.images) await assets!.insert(image)
        written++
      }
    }
    const writers = [0, 1, 2].map((w) => writer(w))
    try {
      await until(() => written >= 5, 10_000, 'five writes')
      const backfill = await runCli([
        'backfill',
        'studio',
        '--chunk-rows',
        '50',
        '--json',
        '--database-url',
        db.url,
        '--actor',
        'test',
      ])
      expect(backfill.stderr).toBe('')
      expect(backfill.code).toBe(0)
      const result = backfill.json<{ group: string; members: { migration: string; rows: number }[] }>()
      expect(result.members.map((m) => m.migration)).toEqual(['sessions_v2', 'flows_v2', 'assets_v2'])
      // The writers were still writing when the backfill ended.
      const before = written
      await until(() => written >= before + 3, 10_000, 'three more writes')
    } finally {
      stop = true
      await Promise.all(writers)
    }
    expect(written).toBeGreaterThan(10)
    const orphans = await db.query<{ flows: number; assets: number }>(
      `SELECT (SELECT count(*)::int FROM generation_flow f WHERE NOT EXISTS (SELECT 1 FROM collection_session s WHERE s.id = f.session_id)) AS flows,
              (SELECT count(*)::int FROM generated_asset a WHERE NOT EXISTS (SELECT 1 FROM generation_flow f WHERE f.id = a.flow_id)) AS assets`,
    )
    expect(orphans).toEqual([{ flows: 0, assets: 0 }])
    const counts = await db.query(
      'SELECT (SELECT count(*) FROM studio_session) = (SELECT count(*) FROM collection_session) AND (SELECT count(*) FROM flow) = (SELECT count(*) FROM generation_flow) AND (SELECT count(*) FROM generated_image) = (SELECT count(*) FROM generated_asset) AS same',
    )
    expect(counts).toEqual([{ same: true }])
    const verified = await runVerifies(db.pool, { schema: 'cutover', migration: 'studio', actor: 'test' })
    expect(verified.map((v) => [v.migration, v.clean])).toEqual([
      ['sessions_v2', true],
      ['flows_v2', true],
      ['assets_v2', true],
    ])
  })
})
