import pg from 'pg'
import { describe, expect, it, beforeAll } from 'vitest'
import { controlSnapshot } from '../support/control.js'
import { expectRefusedUnchanged, runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'])

async function world(): Promise<string> {
  const triggers = await db.query("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'cutover_bypass_%'")
  return JSON.stringify({ control: await controlSnapshot(db.pool), triggers })
}

async function expectRefused(args: string[], code: number, message: RegExp): Promise<string> {
  return (await expectRefusedUnchanged(() => cli(...args), world, code, message)).stderr
}

beforeAll(async () => {
  await setupOrders(db)
  await setPhase(db.pool, 'dual_write')
})

describe('cutover net', () => {
  it('refuses a missing or unknown mode in one line, changing nothing, and the command it suggests is accepted', async () => {
    await expectRefused(
      ['net', 'install', 'orders_v2'],
      2,
      /net install needs --mode record .* or copy .*; run: cutover net install orders_v2 --mode copy$/,
    )
    const stderr = await expectRefused(
      ['net', 'install', 'orders_v2', '--mode', 'mirror'],
      2,
      /--mode "mirror" is not a mode/,
    )
    const suggested = /run: cutover (.*)$/.exec(stderr.trim())?.[1]?.split(' ') ?? []
    const accepted = await cli(...suggested)
    expect(accepted.code).toBe(0)
    expect(accepted.stdout).toMatch(/orders_v2: bypass net installed in copy mode/)
    expect(await db.query('SELECT mode, installed_by FROM cutover.bypass_nets')).toEqual([
      { mode: 'copy', installed_by: 'oncall' },
    ])
  })

  it('doctor names a bypassing writer (application_name, role, rows, last seen) and the command it suggests is accepted', async () => {
    await cli('net', 'install', 'orders_v2', '--mode', 'record')
    const writer = new pg.Client({ connectionString: db.url, application_name: 'billing_cron' })
    await writer.connect()
    try {
      await writer.query(
        'INSERT INTO orders (id, customer_id, amount_cents) VALUES (9001, gen_random_uuid()::text, 1), (9002, gen_random_uuid()::text, 2)',
      )
    } finally {
      await writer.end()
    }
    const doctor = await cli('doctor', 'orders_v2', '--json')
    const finding = doctor
      .json<{ findings: { code: string; message: string; command: string }[] }>()
      .findings.find((f) => f.code === 'bypass_writers')
    expect(finding?.message).toMatch(
      /application_name "billing_cron", role "\w+" wrote 2 legacy row\(s\) outside the DAL \(2 insert\), last seen .*; the net records them as divergences/,
    )
    expect(finding?.command).toBe('cutover repair orders_v2')
    const repaired = await cli(...(finding?.command ?? '').split(' ').slice(1))
    expect(repaired.code).toBe(0)
    expect(await db.query('SELECT id::text FROM orders_v2 WHERE id IN (9001, 9002) ORDER BY id')).toEqual([
      { id: '9001' },
      { id: '9002' },
    ])
  })

  it('refuses an unknown migration and an unknown action', async () => {
    await expectRefused(['net', 'install', 'nope', '--mode', 'record'], 2, /unknown migration "nope"/)
    const result = await cli('net', 'frob', 'orders_v2')
    expect(result.code).toBe(2)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('shows the net in status, replaces it in another mode, and removes it (a repeat changes nothing)', async () => {
    expect((await cli('status', 'orders_v2')).stdout).toMatch(/bypass net: {3}record mode, installed .* by oncall/)
    const replaced = await cli('net', 'install', 'orders_v2', '--mode', 'copy')
    expect(replaced.stdout).toMatch(/installed in copy mode \(replaced the record-mode net\)/)
    const removed = await cli('net', 'remove', 'orders_v2')
    expect(removed.code).toBe(0)
    expect(removed.stdout).toMatch(/bypass net \(copy mode\) removed/)
    expect(await db.query("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'cutover_bypass_%'")).toEqual([])
    expect((await cli('net', 'remove', 'orders_v2')).stdout).toMatch(/no bypass net installed; nothing changed/)
    expect((await cli('status', 'orders_v2')).stdout).toMatch(/bypass net: {3}none/)
    expect(
      await db.query(
        "SELECT kind, details ->> 'mode' AS mode FROM cutover.events WHERE kind LIKE 'bypass_net_%' ORDER BY id",
      ),
    ).toEqual([
      { kind: 'bypass_net_install', mode: 'copy' },
      { kind: 'bypass_net_install', mode: 'record' },
      { kind: 'bypass_net_install', mode: 'copy' },
      { kind: 'bypass_net_remove', mode: 'copy' },
    ])
  })
})
