import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { ORDERS_CONFIG, ORDERS_DDL } from '../support/orders-fixture.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'ana', '--json'])

beforeAll(async () => {
  await db.query(ORDERS_DDL)
  await db.query(`INSERT INTO orders (id, customer_id, amount_cents, status, meta)
                  SELECT g, gen_random_uuid()::text, g * 7, CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'new' END, jsonb_build_object('n', g)
                    FROM generate_series(1, 3000) g`)
})

describe('the whole path, as an operator runs it', () => {
  it('init, register, dual_write, backfill, verify, ramp 1 to 100, shadow_primary, rollback, status', async () => {
    const dir = await tempDir('cutover-path-')
    const config = join(dir, 'cutover.json')
    await writeFile(
      config,
      JSON.stringify({
        migrations: [
          {
            ...ORDERS_CONFIG,
            soakSeconds: 0,
          },
        ],
      }),
    )
    expect((await cli('init')).json()).toMatchObject({
      schema: 'cutover',
      applied: expect.arrayContaining(['0001_control_schema.sql']),
    })
    expect((await cli('register', '--config', config, '--reason', 'ticket 12')).json()).toMatchObject({
      registered: [{ name: 'orders_v2' }],
    })
    expect((await cli('precheck', 'orders_v2', '--reason', 'before dual writes')).json()).toMatchObject({
      rows: 3000,
      clean: true,
      classes: [],
    })
    const toDual = await cli('advance', 'orders_v2', '--reason', 'start dual writes')
    expect(toDual.json()).toEqual({
      migration: 'orders_v2',
      from: { phase: 'off', readPercent: 0 },
      to: { phase: 'dual_write', readPercent: 0 },
      changed: true,
      acknowledged: 0,
      listeners: 0,
      unacknowledged: [],
    })

    const backfill = await cli('backfill', 'orders_v2', '--reason', 'copy')
    expect(backfill.code).toBe(0)
    expect(backfill.json()).toMatchObject({ migration: 'orders_v2', rows: 3000, seconds: expect.any(Number) })
    expect(await db.query('SELECT count(*)::int AS n FROM orders_v2')).toEqual([{ n: 3000 }])

    const verify = await cli('verify', 'orders_v2')
    expect(verify.code).toBe(0)
    expect(verify.json()).toEqual({
      migration: 'orders_v2',
      rowsCompared: 3000,
      clean: true,
      counts: { mismatch: 0, missing_in_shadow: 0, missing_in_legacy: 0 },
      differences: [],
    })

    expect((await cli('advance', 'orders_v2', '--reason', 'compare reads')).json()).toMatchObject({
      to: { phase: 'shadow_read', readPercent: 0 },
    })
    let previous = 0
    for (const percent of [1, 5, 25, 50, 100]) {
      const ramp = await cli('ramp', 'orders_v2', String(percent), '--reason', `ramp ${percent}`)
      expect(ramp.code).toBe(0)
      expect(ramp.json()).toMatchObject({
        from: { readPercent: previous },
        to: { phase: 'ramp', readPercent: percent },
      })
      previous = percent
    }
    expect((await cli('advance', 'orders_v2', '--reason', 'shadow takes over')).json()).toMatchObject({
      to: { phase: 'shadow_primary', readPercent: 100 },
    })
    expect((await cli('verify', 'orders_v2')).json()).toMatchObject({ clean: true })
    const unconfirmed = await cli('advance', 'orders_v2')
    expect(unconfirmed.code).toBe(1)
    expect(unconfirmed.stderr.trim()).toBe(
      'cutover: orders_v2: complete is the one step that cannot be undone and needs its own confirmation ' +
        "(--force does not give it); run: cutover advance orders_v2 --to complete --confirm (from code: advance(pool, { …, to: 'complete', confirm: true }))",
    )
    const rollback = await cli('rollback', 'orders_v2', '--reason', 'drill')
    expect(rollback.json()).toMatchObject({
      from: { phase: 'shadow_primary', readPercent: 100 },
      to: { phase: 'dual_write', readPercent: 0 },
    })

    const status = (await cli('status', 'orders_v2')).json<{ migrations: Record<string, unknown>[] }>()
    expect(status.migrations[0]).toMatchObject({
      name: 'orders_v2',
      phase: 'dual_write',
      readPercent: 0,
      authority: 'legacy',
      backfill: { done: true, rows: 3000 },
      lastVerify: { clean: true },
      divergencesLastHour: 0,
    })

    const events = await db.query<{
      actor: string
      kind: string
      reason: string | null
      from_phase: string | null
      to_phase: string | null
      to_percent: number | null
    }>('SELECT actor, kind, reason, from_phase, to_phase, to_percent FROM cutover.events ORDER BY id')
    expect(events.map((e) => [e.kind, e.to_phase, e.to_percent])).toEqual([
      ['registered', null, null],
      ['precheck', null, null],
      ['advance', 'dual_write', 0],
      ['backfill', null, null],
      ['verify', null, null],
      ['advance', 'shadow_read', 0],
      ['ramp', 'ramp', 1],
      ['ramp', 'ramp', 5],
      ['ramp', 'ramp', 25],
      ['ramp', 'ramp', 50],
      ['ramp', 'ramp', 100],
      ['advance', 'shadow_primary', 100],
      ['verify', null, null],
      ['rollback', 'dual_write', 0],
    ])
    expect(events.every((e) => e.actor === 'ana')).toBe(true)
    expect(events.filter((e) => e.to_phase !== null).every((e) => e.reason !== null)).toBe(true)
  }, 240_000)
})
