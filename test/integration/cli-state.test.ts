import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { ORDERS_CONFIG, ORDERS_DDL } from '../support/orders-fixture.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
let configPath: string
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'])

const config = {
  migrations: [
    {
      ...ORDERS_CONFIG,
      soakSeconds: 0,
    },
  ],
}

beforeAll(async () => {
  await db.query(ORDERS_DDL)
  const dir = await tempDir('cutover-cli-')
  configPath = join(dir, 'cutover.json')
  await writeFile(configPath, JSON.stringify(config))
  expect((await cli('init')).code).toBe(0)
  const registered = await cli('register', '--config', configPath, '--json')
  expect(registered.code).toBe(0)
  expect(registered.json()).toMatchObject({ registered: [{ name: 'orders_v2' }] })
})

async function expectRefused(args: string[], code: number, message: RegExp): Promise<void> {
  const before = await controlSnapshot(db.pool)
  const result = await cli(...args)
  expect(result.code).toBe(code)
  expect(result.stderr.trim()).toMatch(message)
  expect(result.stderr.trim().split('\n')).toHaveLength(1)
  expect(result.stderr).not.toMatch(/\n\s+at /)
  expect(await controlSnapshot(db.pool)).toBe(before)
}

describe('bad input: one line, the documented exit code, nothing written', () => {
  it('an unknown migration exits 2', async () => {
    await expectRefused(
      ['rollback', 'nope'],
      2,
      /^cutover: unknown migration "nope"; list the registered ones with: cutover status$/,
    )
    await expectRefused(['advance', 'nope'], 2, /unknown migration "nope"/)
    await expectRefused(['status', 'nope'], 2, /unknown migration "nope"/)
  })

  it('a percentage of 150, -1 or abc exits 2', async () => {
    await expectRefused(['ramp', 'orders_v2', '150'], 2, /percent must be a whole number from 0 to 100, not "150"/)
    await expectRefused(['ramp', 'orders_v2', '-1'], 2, /percent must be a whole number from 0 to 100, not "-1"/)
    await expectRefused(['ramp', 'orders_v2', 'abc'], 2, /percent must be a whole number from 0 to 100, not "abc"/)
  })

  it('an unknown phase exits 2', async () => {
    await expectRefused(
      ['advance', 'orders_v2', '--to', 'sideways'],
      2,
      /Invalid values: Argument: to, Given: "sideways", Choices: .*; see: cutover --help/,
    )
  })

  it('an unknown command or flag exits 2', async () => {
    await expectRefused(['frobnicate'], 2, /Unknown argument: frobnicate; see: cutover --help/)
    await expectRefused(['status', '--colour'], 2, /Unknown argument: colour/)
  })

  it('a bad config exits 2 and registers nothing', async () => {
    const bad = join(configPath, '..', 'bad.json')
    await writeFile(bad, '{"migrations": [')
    await expectRefused(['register', '--config', bad], 2, /config file .*bad\.json is not valid JSON/)
    await writeFile(
      bad,
      JSON.stringify({
        migrations: [{ ...config.migrations[0], forward: { customer: 'nope::uuid', amount: 'amount_cents / 100.0' } }],
      }),
    )
    await expectRefused(
      ['register', '--config', bad],
      2,
      /"forward\.customer" \(nope::uuid\) does not fit shadow column "customer": column "nope" does not exist/,
    )
  })

  it('an unreachable database exits 3 without printing the password', async () => {
    const result = await runCli(['status', '--database-url', 'postgres://someone:hunter2secret@127.0.0.1:1/nodb'])
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(
      /^cutover: cannot reach the database at 127\.0\.0\.1:1\/nodb: connection refused; check the address/,
    )
    expect(result.stderr + result.stdout).not.toContain('hunter2secret')
  })

  it('a wrong password exits 3 without printing it', async () => {
    const url = new URL(db.url)
    url.username = 'nobody_here'
    url.password = 'wrong-pass-123'
    const result = await runCli(['status', '--json', '--database-url', url.toString()])
    expect(result.code).toBe(3)
    expect(result.json()).toMatchObject({ error: { exitCode: 3 } })
    expect(result.stderr + result.stdout).not.toContain('wrong-pass-123')
  })
})

describe('gates', () => {
  it('refuse ramp without a backfill, name the missing evidence and the command, and --force overrides with a record', async () => {
    expect((await cli('precheck', 'orders_v2')).code).toBe(0)
    expect((await cli('advance', 'orders_v2', '--to', 'dual_write')).code).toBe(0)
    expect((await cli('advance', 'orders_v2')).code).toBe(0)
    await expectRefused(
      ['ramp', 'orders_v2', '5'],
      1,
      /^cutover: orders_v2: gate "ramp" not met: no finished backfill; run: cutover backfill orders_v2$/,
    )
    await expectRefused(['advance', 'orders_v2'], 1, /gate "ramp" not met: no finished backfill/)
    const forced = await cli('ramp', 'orders_v2', '5', '--force', '--json')
    expect(forced.code).toBe(0)
    expect(forced.json()).toMatchObject({
      migration: 'orders_v2',
      from: { phase: 'shadow_read', readPercent: 0 },
      to: { phase: 'ramp', readPercent: 5 },
    })
    const [event] = await db.query(
      "SELECT forced, details, actor, reason FROM cutover.events WHERE kind = 'ramp' ORDER BY id DESC LIMIT 1",
    )
    expect(event).toEqual({
      forced: true,
      details: { overriddenGate: 'ramp', overriddenBecause: 'no finished backfill' },
      actor: 'oncall',
      reason: 'test',
    })
  })

  it('refuse shadow_primary below 100 %, and complete without a verify or --confirm', async () => {
    await expectRefused(
      ['advance', 'orders_v2'],
      1,
      /gate "shadow_primary" not met: reads are not at 100 % on the shadow; run: cutover ramp orders_v2 100/,
    )
    expect((await cli('ramp', 'orders_v2', '100')).code).toBe(0)
    expect((await cli('advance', 'orders_v2')).code).toBe(0)
    await expectRefused(
      ['advance', 'orders_v2'],
      1,
      /gate "complete" not met: no verify since entering shadow_primary; run: cutover verify orders_v2/,
    )
  })

  it('refuse shadow_primary while divergences were seen at 100 %', async () => {
    expect((await cli('rollback', 'orders_v2')).code).toBe(0)
    expect((await cli('advance', 'orders_v2')).code).toBe(0)
    expect((await cli('ramp', 'orders_v2', '100', '--force')).code).toBe(0)
    await db.query(
      `INSERT INTO cutover.divergences (migration, key, source, kind) VALUES ('orders_v2', '{"id":"1"}', 'read', 'mismatch')`,
    )
    await expectRefused(
      ['advance', 'orders_v2'],
      1,
      /gate "shadow_primary" not met: 1 divergence\(s\) seen since reads reached 100 %; inspect with: cutover divergences orders_v2/,
    )
  })
})

describe('rollback', () => {
  it('is idempotent, refused only for complete, and reports acknowledgements', async () => {
    const first = await cli('rollback', 'orders_v2', '--json')
    expect(first.code).toBe(0)
    expect(first.json()).toMatchObject({
      to: { phase: 'dual_write', readPercent: 0 },
      changed: true,
      acknowledged: 0,
      listeners: 0,
    })
    const second = await cli('rollback', 'orders_v2', '--json')
    expect(second.json()).toMatchObject({ from: { phase: 'dual_write' }, to: { phase: 'dual_write' }, changed: false })
    const human = await cli('rollback', 'orders_v2')
    expect(human.stdout).toContain('orders_v2: already dual_write; nothing changed')
    expect(human.stdout).toContain('acknowledged by 0 of 0 listening processes within 1 s')
  })
})

describe('status', () => {
  it('prints the documented JSON fields and the last five events', async () => {
    const result = await cli('status', '--json')
    expect(result.code).toBe(0)
    const { migrations } = result.json<{ migrations: Record<string, unknown>[] }>()
    expect(migrations).toHaveLength(1)
    expect(migrations[0]).toMatchObject({
      name: 'orders_v2',
      phase: 'dual_write',
      readPercent: 0,
      authority: 'legacy',
      backfill: { done: false, rows: 0 },
      lastVerify: null,
      divergencesLastHour: 1,
      listeners: 0,
    })
    expect(migrations[0]?.events).toHaveLength(5)
    const human = await cli('status', 'orders_v2')
    expect(human.stdout).toMatch(/^orders_v2: dual_write, legacy authoritative/)
    expect(human.stdout).toContain('rollback ramp 100% -> dual_write by oncall: test')
  })
})
