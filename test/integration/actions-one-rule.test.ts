/**
 * Issue 14: the library's actions refuse exactly what the CLI refuses, with the
 * same message; `force` never confirms complete; and each refusal's suggested
 * command is accepted when an operator runs it next.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { advance } from '../../src/actions/advance.js'
import { ramp } from '../../src/actions/ramp.js'
import { ConfirmationRequired, CutoverError } from '../../src/core/errors.js'
import type { Phase } from '../../src/core/phases.js'
import { runCli, type CliResult } from '../support/cli.js'
import { controlSnapshot } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const cli = (...args: string[]): Promise<CliResult> =>
  runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'])
const op = { schema: 'cutover', migration: 'orders_v2', actor: 'code', ackTimeoutMs: 0 }

beforeAll(async () => {
  await setupOrders(db, { soakSeconds: 0 })
  await db.query(
    `INSERT INTO orders (id, customer_id, amount_cents) SELECT g, gen_random_uuid()::text, g FROM generate_series(1, 50) g`,
  )
})

async function phase(): Promise<{ phase: Phase; read_percent: number }> {
  return (
    await db.query<{ phase: Phase; read_percent: number }>(
      "SELECT phase, read_percent FROM cutover.state WHERE migration = 'orders_v2'",
    )
  )[0] as { phase: Phase; read_percent: number }
}

/** The command a refusal suggests (`run: cutover …`, `with: cutover …`), without what follows it. */
function suggestion(message: string): string[] | undefined {
  const match = /(?:run|with): (cutover [^;,(]+?)\s*(?:\(|,|;|$)/.exec(message)
  return match?.[1]?.split(' ').slice(1)
}

/**
 * The library call and the CLI refuse the same request with the same one-line
 * message and change nothing; then the command the message suggests is run
 * and accepted (exit 0).
 */
async function refusedAlike(
  library: () => Promise<unknown>,
  args: string[],
  message: RegExp,
  options: { runSuggestion: boolean } = { runSuggestion: true },
): Promise<void> {
  const before = await controlSnapshot(db.pool)
  const thrown = await library().then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(thrown).toBeInstanceOf(CutoverError)
  const error = thrown as CutoverError
  expect(error.message).toMatch(message)
  expect(await controlSnapshot(db.pool)).toBe(before)
  const result = await cli(...args)
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: error.exitCode,
    stderr: `cutover: ${error.message}\n`,
  })
  expect(await controlSnapshot(db.pool)).toBe(before)
  if (!options.runSuggestion) return
  const next = suggestion(error.message)
  expect(next, `a command to run next in: ${error.message}`).toBeDefined()
  const accepted = await cli(...(next as string[]))
  // Accepted: exit 0 and no error line (a job prints its progress on stderr).
  expect({ next, code: accepted.code, error: accepted.stderr.match(/^cutover: .*/m)?.[0] }).toEqual({
    next,
    code: 0,
    error: undefined,
  })
}

describe('one set of rules for the CLI and for code, and suggestions that work', { timeout: 300_000 }, () => {
  it('from off with no precheck: advance is refused alike and suggests the precheck, which is accepted', async () => {
    await refusedAlike(
      () => advance(db.pool, op),
      ['advance', 'orders_v2'],
      /^orders_v2: gate "dual_write" not met: no precheck of the mapping over the legacy rows has run; run: cutover precheck orders_v2$/,
    )
    expect(await phase()).toEqual({ phase: 'off', read_percent: 0 })
  })

  it('from off: ramp and a skipping advance are refused alike and suggest the one-phase advance, which is accepted', async () => {
    await refusedAlike(
      () => ramp(db.pool, { ...op, percent: 5 }),
      ['ramp', 'orders_v2', '5'],
      /^orders_v2: ramp works in shadow_read or ramp, and the migration is in off; first advance it one phase \(to dual_write\) with: cutover advance orders_v2$/,
    )
    expect(await phase()).toEqual({ phase: 'dual_write', read_percent: 0 })
    await refusedAlike(
      () => ramp(db.pool, { ...op, percent: 5 }),
      ['ramp', 'orders_v2', '5'],
      /in dual_write; first advance it one phase \(to shadow_read\) with: cutover advance orders_v2$/,
    )
    expect(await phase()).toEqual({ phase: 'shadow_read', read_percent: 0 })
  })

  it("in shadow_read: entering ramp without evidence is refused alike (ramp, and advance --to complete naming the next phase's gate), each suggestion accepted", async () => {
    await refusedAlike(
      () => advance(db.pool, { ...op, to: 'complete' }),
      ['advance', 'orders_v2', '--to', 'complete'],
      /^orders_v2: cannot skip from shadow_read to complete, and the next phase, ramp, is not ready: no finished backfill; run: cutover backfill orders_v2$/,
    )
    await refusedAlike(
      () => ramp(db.pool, { ...op, percent: 5 }),
      ['ramp', 'orders_v2', '5'],
      /gate "ramp" not met: no verify since the backfill finished; run: cutover verify orders_v2$/,
    )
    expect((await cli('ramp', 'orders_v2', '5')).code).toBe(0)
    await refusedAlike(
      () => advance(db.pool, op),
      ['advance', 'orders_v2'],
      /gate "shadow_primary" not met: reads are not at 100 % on the shadow; run: cutover ramp orders_v2 100/,
    )
    expect(await phase()).toEqual({ phase: 'ramp', read_percent: 100 })
    await refusedAlike(
      () => advance(db.pool, { ...op, to: 'shadow_read' }),
      ['advance', 'orders_v2', '--to', 'shadow_read'],
      /cannot advance from ramp back to shadow_read; to go back use: cutover rollback orders_v2$/,
      { runSuggestion: false },
    )
    expect((await cli('advance', 'orders_v2')).code).toBe(0)
    expect(await phase()).toEqual({ phase: 'shadow_primary', read_percent: 100 })
  })

  it('advance --force without confirmation never reaches complete, from the CLI or from code; its suggestion (with --confirm) is accepted', async () => {
    const library = await advance(db.pool, { ...op, force: true }).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(library).toBeInstanceOf(ConfirmationRequired)
    expect(await phase()).toEqual({ phase: 'shadow_primary', read_percent: 100 })
    await refusedAlike(
      () => advance(db.pool, { ...op, to: 'complete', force: true }),
      ['advance', 'orders_v2', '--force'],
      /^orders_v2: complete is the one step that cannot be undone and needs its own confirmation \(--force does not give it\); run: cutover advance orders_v2 --to complete --confirm --force \(from code/,
    )
    expect(await phase()).toEqual({ phase: 'complete', read_percent: 100 })
    const [event] = await db.query(
      "SELECT forced, details ->> 'overriddenGate' AS gate, actor FROM cutover.events WHERE to_phase = 'complete'",
    )
    expect(event).toEqual({ forced: true, gate: 'complete', actor: 'oncall' })
  })

  it('after complete: ramp and rollback are refused alike and suggest nothing to run', async () => {
    await refusedAlike(
      () => ramp(db.pool, { ...op, percent: 5 }),
      ['ramp', 'orders_v2', '5'],
      /is complete: every read goes to the shadow/,
      { runSuggestion: false },
    )
    expect(suggestion((await cli('rollback', 'orders_v2')).stderr)).toBeUndefined()
  })
})

describe('messages', { timeout: 120_000 }, () => {
  it('a control schema missing where it looked names the database and schema and suggests --schema/--database-url before init, without the password', async () => {
    const url = new URL(db.url)
    url.password = 'sekret-pass-42'
    const result = await runCli(['rollback', 'orders_v2', '--schema', 'elsewhere', '--database-url', db.url])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      `cutover: no control schema "elsewhere" in the database at ${url.hostname}:${url.port}/${db.name}; if it lives elsewhere, pass --schema NAME or --database-url postgres://…/DB; ` +
        'if this is the right place and it was never created, run: cutover init --schema elsewhere\n',
    )
    const withPassword = await runCli(['status', '--schema', 'elsewhere', '--database-url', url.toString()])
    expect(withPassword.stderr + withPassword.stdout).not.toContain('sekret-pass-42')
  })

  it('a missing positional argument is one usage line naming it, exit 2', async () => {
    const result = await runCli(['rollback'])
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr:
        'cutover: cutover rollback needs <migration>; usage: cutover rollback <migration>; see: cutover rollback --help\n',
    })
  })

  it('rollback names each live instance that did not acknowledge: host, pid, last heartbeat', async () => {
    await db.query(
      "UPDATE cutover.state SET phase = 'ramp', read_percent = 10, authority = 'legacy' WHERE migration = 'orders_v2'",
    )
    const [ghost] = await db.query<{ at: Date }>(
      "INSERT INTO cutover.instances (id, host, pid) VALUES ('ghost', 'app-host-7', 4242) RETURNING heartbeat_at AS at",
    )
    const result = await cli('rollback', 'orders_v2')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('acknowledged by 0 of 1 listening processes within 1 s')
    expect(result.stdout).toContain(
      `not acknowledged by: pid 4242 on app-host-7 (last heartbeat ${(ghost as { at: Date }).at.toISOString()})`,
    )
  })
})
