import type { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { ramp } from '../../src/actions/ramp.js'
import type { Cutover } from '../../src/cutover/cutover.js'
import type { GroupDal } from '../../src/dal/group-dal.js'
import type { GroupTables } from '../../src/dal/group-select.js'
import type { Side } from '../../src/core/phases.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runPrechecks } from '../../src/jobs/groups/group-jobs.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover } from '../support/orders-fixture.js'
import { setupStudio, STUDIO_MEMBERS, studioRows } from '../support/studio-fixture.js'
import { until } from '../support/until.js'

const db = await freshDatabase()
const quiet = { schema: 'cutover', actor: 'test', ackTimeoutMs: 0 }
const KEYS = Array.from({ length: 5000 }, (_, i) => `user-${i}`)
/** Never sampled: reads serve the routed side only. */
let plain: { cutover: Cutover; group: GroupDal }
/** Every read compared inline: a mismatch is served from legacy. */
let compared: { cutover: Cutover; group: GroupDal; registry: Registry }
let close: () => Promise<void>

async function rampTo(percent: number): Promise<void> {
  await ramp(db.pool, { ...quiet, migration: 'studio', percent })
  for (const c of [plain.cutover, compared.cutover])
    await until(
      () => STUDIO_MEMBERS.every((m) => c.state(m)?.readPercent === percent),
      3000,
      'every member at the new percentage',
    )
}

/** Session 1 with its flows and images, the three tables joined. */
const joined = (t: GroupTables) =>
  t
    .from('sessions_v2')
    .innerJoin(t.table('flows_v2'), 'flow.session_id', 'studio_session.id')
    .innerJoin(t.table('assets_v2'), 'generated_image.flow_id', 'flow.id')
    .select([
      'studio_session.name',
      'studio_session.budget_cents',
      'flow.title',
      'flow.step_count',
      'generated_image.url',
      'generated_image.width_px',
    ])
    .where('studio_session.id', '=', '1')

/** Which side each value of a joined row came from: the test marks every shadow row (below). */
function sidesOf(rows: Record<string, unknown>[]): Set<Side> {
  const sides = new Set<Side>()
  for (const r of rows) {
    sides.add(String(r.name).startsWith('shadow') ? 'shadow' : 'legacy')
    sides.add(String(r.title).startsWith('shadow') ? 'shadow' : 'legacy')
    sides.add(String(r.url).startsWith('shadow') ? 'shadow' : 'legacy')
  }
  return sides
}

beforeAll(async () => {
  await setupStudio(db)
  for (const s of [1, 2]) {
    const rows = studioRows(s)
    await db.query('INSERT INTO studio_session SELECT * FROM json_populate_record(NULL::studio_session, $1)', [
      rows.session,
    ])
    await db.query('INSERT INTO flow SELECT * FROM json_populate_recordset(NULL::flow, $1)', [
      JSON.stringify(rows.flows),
    ])
    await db.query('INSERT INTO generated_image SELECT * FROM json_populate_recordset(NULL::generated_image, $1)', [
      JSON.stringify(rows.images),
    ])
  }
  // The group's precheck judges each child row against the parent rows it references, so dual_write needs no force.
  await runPrechecks(db.pool, { ...quiet, migration: 'studio' })
  await advance(db.pool, { ...quiet, migration: 'studio' })
  await advance(db.pool, { ...quiet, migration: 'studio' })
  for (const migration of ['sessions_v2', 'flows_v2', 'assets_v2']) {
    await runBackfill(db.pool, { schema: 'cutover', migration, actor: 'test' })
    await runVerify(db.pool, { schema: 'cutover', migration, actor: 'test' })
  }
  const a = await connectCutover(db, { random: () => 0.999 })
  const b = await connectCutover(db, { random: () => 0, comparisons: { mode: 'inline' } })
  plain = { cutover: a.cutover, group: await a.cutover.group('studio') }
  compared = { cutover: b.cutover, group: await b.cutover.group('studio'), registry: b.registry }
  close = async () => {
    await a.cutover.close()
    await a.pool.end()
    await b.cutover.close()
    await b.pool.end()
  }
})
afterAll(async () => close())

describe('a group ramp routes each routing key to one side for every member', () => {
  it('at every percentage, each of 5,000 routing keys reads all three tables from the same side, and about p % of them the shadow', async () => {
    const dals = await Promise.all(STUDIO_MEMBERS.map((m) => plain.cutover.migration(m)))
    for (const percent of [0, 1, 5, 25, 50, 75, 99, 100]) {
      await rampTo(percent)
      let shadow = 0
      for (const key of KEYS) {
        const sides = new Set(dals.map((d) => d.sideFor(key)))
        expect(sides.size, `key ${key} at ${percent} %`).toBe(1)
        expect(plain.group.sideFor(key)).toBe(dals[0]!.sideFor(key))
        if (sides.has('shadow')) shadow++
      }
      // Bucketing is deterministic: the share is close to p, and a key only ever moves to the shadow as p grows.
      expect(Math.abs(shadow - (KEYS.length * percent) / 100), `shadow keys at ${percent} %`).toBeLessThanOrEqual(
        KEYS.length * 0.03,
      )
    }
  })

  it('a three-table join through select reads every table from the routed side, never a mix', async () => {
    await rampTo(50)
    // Mark every shadow row, so each joined value shows which side served it.
    await db.query(
      "UPDATE collection_session SET name = 'shadow ' || name; UPDATE generation_flow SET title = 'shadow ' || title; UPDATE generated_asset SET uri = 'shadow:' || uri",
    )
    try {
      const seen = new Set<Side>()
      for (const key of KEYS.slice(0, 300)) {
        const rows = await plain.group.select(joined, { routingKey: key })
        expect(rows).toHaveLength(4)
        const sides = sidesOf(rows)
        expect([...sides], `key ${key}`).toEqual([plain.group.sideFor(key)])
        seen.add(plain.group.sideFor(key))
      }
      expect([...seen].sort()).toEqual(['legacy', 'shadow'])
      // Without a routing key below 100 %, the whole join reads legacy.
      expect([...sidesOf(await plain.group.select(joined))]).toEqual(['legacy'])
    } finally {
      await db.query(
        'UPDATE collection_session SET name = substr(name, 8); UPDATE generation_flow SET title = substr(title, 8); UPDATE generated_asset SET uri = substr(uri, 8)',
      )
    }
  })

  it('a compared join compares the whole joined result: equal sides match, a difference in any one table is a mismatch served from legacy', async () => {
    await rampTo(100)
    const mismatches = async () =>
      Number(
        (await compared.registry.getSingleMetric('cutover_comparisons_total')?.get())?.values.find(
          (v) => v.labels.migration === 'studio' && v.labels.result === 'mismatch',
        )?.value ?? 0,
      )
    const rows = await compared.group.select(joined)
    expect(rows).toHaveLength(4)
    expect(rows.map((r) => r.width_px).sort()).toEqual(['256', '256', '512', '512'])
    expect(await mismatches()).toBe(0)
    // Only the grandchild differs: the joined comparison sees it.
    await db.query("UPDATE generated_asset SET uri = 'shadow:' || uri WHERE id = 10000")
    try {
      const served = await compared.group.select(joined)
      expect([...sidesOf(served)]).toEqual(['legacy'])
      expect(await mismatches()).toBe(1)
    } finally {
      await db.query('UPDATE generated_asset SET uri = substr(uri, 8) WHERE id = 10000')
    }
  })
})
