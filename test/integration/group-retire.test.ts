import { beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { ramp } from '../../src/actions/ramp.js'
import { retire, retireTarget, unretireTarget } from '../../src/actions/retire.js'
import { GroupMemberMovedAlone } from '../../src/core/errors.js'
import { runBackfills, runPrechecks, runVerifies } from '../../src/jobs/groups/group-jobs.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { setupStudio, studioRows } from '../support/studio-fixture.js'

const db = await freshDatabase()
const quiet = { schema: 'cutover', actor: 'test', ackTimeoutMs: 0 }
const cli = (...args: string[]) =>
  runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'group retire test'])

/** Every foreign key of the public schema, as text. */
async function foreignKeys(): Promise<string[]> {
  const rows = await db.query<{ fk: string }>(
    `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS fk FROM pg_constraint
      WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY 1`,
  )
  return rows.map((r) => r.fk)
}

/** Every row of every table the group or its outside child touches, by table name. */
async function allRows(): Promise<string> {
  const tables = [
    'studio_session',
    'flow',
    'generated_image',
    'collection_session',
    'generation_flow',
    'generated_asset',
    'session_note',
  ]
  const parts: string[] = []
  for (const t of tables) {
    const [row] = await db.query<{ j: string }>(
      `SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text AS j FROM ${t} t`,
    )
    parts.push(`${t}=${row?.j}`)
  }
  return parts.join('\n')
}

async function relationKinds(): Promise<string[]> {
  const rows = await db.query<{ r: string }>(
    "SELECT relname::text || ':' || relkind::text AS r FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v') ORDER BY 1",
  )
  return rows.map((r) => r.r)
}

beforeAll(async () => {
  await setupStudio(db)
  await db.query(
    'CREATE TABLE session_note (id int PRIMARY KEY, session_id bigint NOT NULL REFERENCES studio_session (id), body text)',
  )
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
    await db.query('INSERT INTO session_note VALUES ($1, $2, $3)', [s, s, `note ${s}`])
  }
  const group = { ...quiet, migration: 'studio' }
  // The group's precheck judges each child row against the parent rows it references, so dual_write needs no force.
  await runPrechecks(db.pool, group)
  await advance(db.pool, group)
  await runBackfills(db.pool, { schema: 'cutover', migration: 'studio', actor: 'test' })
  await runVerifies(db.pool, { schema: 'cutover', migration: 'studio', actor: 'test' })
  await advance(db.pool, group)
  await ramp(db.pool, { ...group, percent: 100 })
  await advance(db.pool, { ...group, force: true })
  await runVerifies(db.pool, { schema: 'cutover', migration: 'studio', actor: 'test' })
  await advance(db.pool, { ...group, to: 'complete', confirm: true, force: true })
})

describe('retire and unretire of a group', () => {
  it('refuses to retire a member on its own, naming the group', async () => {
    await expect(retire(db.pool, { ...quiet, migration: 'flows_v2', force: true })).rejects.toBeInstanceOf(
      GroupMemberMovedAlone,
    )
    await expect(retire(db.pool, { ...quiet, migration: 'flows_v2', force: true })).rejects.toThrow(
      'run: cutover retire studio',
    )
  })

  it('retires every member in one transaction, moves the outside key to the shadow, keeps the keys among retired tables, and unretire restores every row and key', async () => {
    const keysBefore = await foreignKeys()
    const rowsBefore = await allRows()
    const kindsBefore = await relationKinds()
    const retired = await cli('retire', 'studio', '--alias', '--force', '--json')
    expect(retired.stderr).toBe('')
    expect(retired.code).toBe(0)
    expect(
      retired
        .json<{ members: { migration: string; changed: boolean }[] }>()
        .members.map((m) => [m.migration, m.changed]),
    ).toEqual([
      ['assets_v2', true],
      ['flows_v2', true],
      ['sessions_v2', true],
    ])
    // One transaction: the three retire events were written by one.
    expect(
      await db.query(
        "SELECT count(*)::int AS events, count(DISTINCT xmin::text)::int AS transactions FROM cutover.events WHERE kind = 'retire'",
      ),
    ).toEqual([{ events: 3, transactions: 1 }])
    const keys = await foreignKeys()
    expect(keys).toContain(
      'session_note session_note_session_id_fkey FOREIGN KEY (session_id) REFERENCES collection_session(id)',
    )
    expect(keys).toContain(
      'flow_retired flow_session_id_fkey FOREIGN KEY (session_id) REFERENCES studio_session_retired(id)',
    )
    expect(keys).toContain(
      'generated_image_retired generated_image_flow_id_fkey FOREIGN KEY (flow_id) REFERENCES flow_retired(id)',
    )
    expect(await relationKinds()).toEqual(
      expect.arrayContaining([
        'studio_session:v',
        'flow:v',
        'generated_image:v',
        'studio_session_retired:r',
        'flow_retired:r',
        'generated_image_retired:r',
      ]),
    )
    // The alias views read the shadows in the legacy shape.
    expect(
      await db.query(
        'SELECT budget_cents, width_px FROM studio_session JOIN flow ON flow.session_id = studio_session.id JOIN generated_image ON generated_image.flow_id = flow.id WHERE generated_image.id = 10001',
      ),
    ).toEqual([{ budget_cents: 107, width_px: '512' }])

    const unretired = await cli('unretire', 'studio', '--json')
    expect(unretired.stderr).toBe('')
    expect(unretired.code).toBe(0)
    expect(await foreignKeys()).toEqual(keysBefore)
    expect(await relationKinds()).toEqual(kindsBefore)
    expect(await allRows()).toBe(rowsBefore)
    expect(
      await db.query(
        "SELECT count(DISTINCT xmin::text)::int AS transactions FROM cutover.events WHERE kind = 'unretire'",
      ),
    ).toEqual([{ transactions: 1 }])

    // The library does the same.
    const again = await retireTarget(db.pool, { ...quiet, migration: 'studio', force: true })
    expect(again.map((r) => r.retiredTable)).toEqual([
      'public.generated_image_retired',
      'public.flow_retired',
      'public.studio_session_retired',
    ])
    expect(await foreignKeys()).toEqual(keys)
    await unretireTarget(db.pool, { ...quiet, migration: 'studio' })
    expect(await foreignKeys()).toEqual(keysBefore)
    expect(await allRows()).toBe(rowsBefore)
  })
})
