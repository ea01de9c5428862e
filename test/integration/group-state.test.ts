import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { ramp } from '../../src/actions/ramp.js'
import { rollback } from '../../src/actions/rollback.js'
import type { Cutover } from '../../src/cutover/cutover.js'
import { GateRefused, GroupMemberMovedAlone } from '../../src/core/errors.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { runCli } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover } from '../support/orders-fixture.js'
import { setupStudio, STUDIO_CONFIG, STUDIO_MEMBERS, studioRows } from '../support/studio-fixture.js'
import { tempDir } from '../support/temp-dir.js'
import { until } from '../support/until.js'

const db = await freshDatabase()
const cli = (...args: string[]) =>
  runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'group test'])
const quiet = { schema: 'cutover', actor: 'test', ackTimeoutMs: 0 }
let dir: string
let cutover: Cutover
let close: () => Promise<void>

async function statesOf(): Promise<string[]> {
  const rows = await db.query<{ s: string }>(
    "SELECT migration || ' ' || phase || ' ' || read_percent AS s FROM cutover.state ORDER BY migration",
  )
  return rows.map((r) => r.s)
}

beforeAll(async () => {
  await setupStudio(db)
  dir = await tempDir('cutover-groups-')
  await writeFile(join(dir, 'cutover.json'), JSON.stringify(STUDIO_CONFIG))
  for (const s of [1, 2, 3]) {
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
  const connected = await connectCutover(db)
  cutover = connected.cutover
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
})
afterAll(async () => {
  await close()
})

describe('a migration group', () => {
  it('refuses to move a member on its own, naming the group and the command, writing nothing; the command it names works', async () => {
    const before = await controlSnapshot(db.pool)
    const refused = await cli('advance', 'flows_v2')
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim()).toBe(
      'cutover: flows_v2: belongs to group "studio", whose members move together (one phase, one read percentage); run: cutover advance studio',
    )
    expect(await controlSnapshot(db.pool)).toBe(before)
    // The library refuses alike (one set of rules).
    await expect(advance(db.pool, { ...quiet, migration: 'flows_v2' })).rejects.toBeInstanceOf(GroupMemberMovedAlone)
    await expect(rollback(db.pool, { ...quiet, migration: 'assets_v2' })).rejects.toThrow(
      'run: cutover rollback studio',
    )
    await expect(ramp(db.pool, { ...quiet, migration: 'sessions_v2', percent: 5 })).rejects.toThrow(
      'run: cutover ramp studio 5',
    )
    expect(await controlSnapshot(db.pool)).toBe(before)

    // The group's precheck (each child row judged against the parent rows it references) is the evidence dual_write needs.
    expect((await cli('precheck', 'studio')).code).toBe(0)
    const moved = await cli('advance', 'studio', '--json')
    expect(moved.code).toBe(0)
    expect(moved.json()).toMatchObject({
      group: 'studio',
      members: [...STUDIO_MEMBERS],
      from: { phase: 'off' },
      to: { phase: 'dual_write' },
      changed: true,
    })
    expect(await statesOf()).toEqual(['assets_v2 dual_write 0', 'flows_v2 dual_write 0', 'sessions_v2 dual_write 0'])
    const events = await db.query(
      "SELECT migration, group_name, kind, to_phase, details -> 'members' AS members FROM cutover.events WHERE kind = 'advance'",
    )
    expect(events).toEqual([
      { migration: null, group_name: 'studio', kind: 'advance', to_phase: 'dual_write', members: [...STUDIO_MEMBERS] },
    ])
  })

  it("enters ramp only with every member's evidence: a finished backfill and a clean verify of each", async () => {
    expect((await cli('advance', 'studio')).code).toBe(0)
    for (const migration of ['sessions_v2', 'flows_v2']) {
      await runBackfill(db.pool, { schema: 'cutover', migration, actor: 'test' })
      await runVerify(db.pool, { schema: 'cutover', migration, actor: 'test' })
    }
    const before = await controlSnapshot(db.pool)
    const refused = await cli('ramp', 'studio', '5')
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim()).toBe(
      'cutover: assets_v2: gate "ramp" not met: no finished backfill (group studio moves only when every member has its evidence); run: cutover backfill assets_v2',
    )
    expect(await controlSnapshot(db.pool)).toBe(before)
    await expect(ramp(db.pool, { ...quiet, migration: 'studio', percent: 5 })).rejects.toBeInstanceOf(GateRefused)
    await runBackfill(db.pool, { schema: 'cutover', migration: 'assets_v2', actor: 'test' })
    await runVerify(db.pool, { schema: 'cutover', migration: 'assets_v2', actor: 'test' })
    const ramped = await cli('ramp', 'studio', '5', '--json')
    expect(ramped.code).toBe(0)
    expect(await statesOf()).toEqual(['assets_v2 ramp 5', 'flows_v2 ramp 5', 'sessions_v2 ramp 5'])
  })

  it('rolls every member back with one command, in one event, and a running process follows all three within a second', async () => {
    await ramp(db.pool, { ...quiet, migration: 'studio', percent: 40 })
    await until(() => STUDIO_MEMBERS.every((m) => cutover.state(m)?.readPercent === 40), 2000, 'every member at 40 %')
    const [{ last }] = (await db.query<{ last: string }>('SELECT max(id)::text AS last FROM cutover.events')) as [
      { last: string },
    ]
    const rolled = await cli('rollback', 'studio', '--json')
    expect(rolled.code).toBe(0)
    const result = rolled.json<{ to: unknown; acknowledged: number; listeners: number }>()
    expect(result.to).toEqual({ phase: 'dual_write', readPercent: 0 })
    // Acknowledged within the CLI's one-second window: this process applied every member's new version.
    expect(result).toMatchObject({ acknowledged: 1, listeners: 1 })
    for (const m of STUDIO_MEMBERS) expect(cutover.state(m)).toMatchObject({ phase: 'dual_write', readPercent: 0 })
    expect(await statesOf()).toEqual(['assets_v2 dual_write 0', 'flows_v2 dual_write 0', 'sessions_v2 dual_write 0'])
    const added = await db.query(
      'SELECT migration, group_name, kind, from_phase, from_percent, to_phase, actor FROM cutover.events WHERE id > $1 ORDER BY id',
      [last],
    )
    expect(added).toEqual([
      {
        migration: null,
        group_name: 'studio',
        kind: 'rollback',
        from_phase: 'ramp',
        from_percent: 40,
        to_phase: 'dual_write',
        actor: 'oncall',
      },
    ])
  })

  it('a guardrail that trips on one member rolls the whole group back, naming the member', async () => {
    await advance(db.pool, { ...quiet, migration: 'studio', to: 'shadow_read' })
    await ramp(db.pool, { ...quiet, migration: 'studio', percent: 10 })
    const result = await rollback(db.pool, {
      ...quiet,
      migration: 'flows_v2',
      trigger: 'guardrail',
      unleash: false,
      details: { bound: 'maxDivergencesPerMinute' },
    })
    expect(result).toMatchObject({
      migration: 'studio',
      members: [...STUDIO_MEMBERS],
      to: { phase: 'dual_write', readPercent: 0 },
    })
    expect(await statesOf()).toEqual(['assets_v2 dual_write 0', 'flows_v2 dual_write 0', 'sessions_v2 dual_write 0'])
    const last = await db.query(
      "SELECT group_name, kind, details ->> 'trippedBy' AS tripped FROM cutover.events ORDER BY id DESC LIMIT 1",
    )
    expect(last).toEqual([{ group_name: 'studio', kind: 'guardrail_rollback', tripped: 'flows_v2' }])
  })

  it('status and doctor take the group: its members, its events; doctor names members that disagree and the rollback that brings them together, which works', async () => {
    const status = await cli('status', 'studio')
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(
      /^group studio: dual_write \(assets_v2, flows_v2, sessions_v2\); all its members move together, back to legacy at once with: cutover rollback studio$/m,
    )
    expect(status.stdout.match(/^(\w+): dual_write, legacy authoritative .*, moves with group studio$/gm)).toHaveLength(
      3,
    )
    expect(status.stdout).toMatch(/guardrail_rollback ramp 10% -> dual_write by test/)
    // A state row edited by hand: the group no longer reads one world.
    await db.query("UPDATE cutover.state SET phase = 'shadow_read' WHERE migration = 'flows_v2'")
    const doctor = await cli('doctor', 'studio', '--skip', 'parity', '--json')
    expect(doctor.code).toBe(1)
    const report = doctor.json<{
      migrations: string[]
      findings: { migration: string; code: string; command: string }[]
    }>()
    expect(report.migrations).toEqual([...STUDIO_MEMBERS])
    const disagree = report.findings.filter((f) => f.code === 'group_members_disagree')
    expect(disagree.map((f) => f.migration)).toEqual([...STUDIO_MEMBERS])
    expect(new Set(disagree.map((f) => f.command))).toEqual(new Set(['cutover rollback studio']))
    const fixed = await cli(...disagree[0]!.command.split(' ').slice(1))
    expect(fixed.code).toBe(0)
    expect(await statesOf()).toEqual(['assets_v2 dual_write 0', 'flows_v2 dual_write 0', 'sessions_v2 dual_write 0'])
  })

  it('register refuses a group whose members are in different states, and a group named like a migration, writing nothing', async () => {
    await db.query(
      'CREATE TABLE x_old (id int PRIMARY KEY); CREATE TABLE x_new (id int PRIMARY KEY); CREATE TABLE y_old (id int PRIMARY KEY); CREATE TABLE y_new (id int PRIMARY KEY)',
    )
    const x = {
      name: 'x_v2',
      legacy: { table: 'public.x_old', key: ['id'] },
      shadow: { table: 'public.x_new', key: ['id'] },
    }
    const y = {
      name: 'y_v2',
      legacy: { table: 'public.y_old', key: ['id'] },
      shadow: { table: 'public.y_new', key: ['id'] },
    }
    await writeFile(join(dir, 'xy.json'), JSON.stringify({ migrations: [x, y] }))
    expect((await cli('register', '--config', join(dir, 'xy.json'))).code).toBe(0)
    await advance(db.pool, { ...quiet, migration: 'x_v2', force: true })
    const before = await controlSnapshot(db.pool)
    await writeFile(
      join(dir, 'xy.json'),
      JSON.stringify({ migrations: [x, y], groups: [{ name: 'xy', migrations: ['x_v2', 'y_v2'] }] }),
    )
    const refused = await cli('register', '--config', join(dir, 'xy.json'))
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim()).toBe(
      'cutover: group "xy" would join migrations in different states (x_v2 dual_write, y_v2 off); a group moves as one, so bring them to one phase first (cutover rollback each one to dual_write) and register again',
    )
    await writeFile(
      join(dir, 'clash.json'),
      JSON.stringify({
        migrations: [
          {
            ...y,
            name: 'z_v2',
            shadow: { table: 'public.x_old', key: ['id'] },
            legacy: { table: 'public.y_new', key: ['id'] },
          },
          {
            ...x,
            name: 'w_v2',
            legacy: { table: 'public.x_new', key: ['id'] },
            shadow: { table: 'public.y_old', key: ['id'] },
          },
        ],
        groups: [{ name: 'x_v2', migrations: ['z_v2', 'w_v2'] }],
      }),
    )
    const clash = await cli('register', '--config', join(dir, 'clash.json'))
    expect(clash.code).toBe(2)
    expect(clash.stderr).toMatch(/migration "x_v2": is also the name of a group/)
    expect(await controlSnapshot(db.pool)).toBe(before)
  })
})
