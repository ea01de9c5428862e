/**
 * The `cutover doctor` findings cli-doctor.test.ts does not reach, each produced from
 * the situation it names, through the real CLI: evidence_missing, orphans_unchecked,
 * control_schema_ahead, control_schema_changed and definition_invalid.
 */
import { appendFile, copyFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { applyControlSchema } from '../../src/store/control-schema/apply-control-schema.js'
import { controlSchemaVersionCheck } from '../../src/store/doctor/control-schema-version.js'
import { DEFAULT_THRESHOLDS } from '../../src/store/doctor/finding.js'
import { DEFAULT_SQL_DIR } from '../../src/store/control-schema/sql-files.js'
import { freshDatabase } from '../support/database.js'
import { DOCTOR, doctorCli, type DoctorDoc } from '../support/doctor-cli.js'
import { ORDERS_CONFIG, setPhase, setupOrders } from '../support/orders-fixture.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const { run, json, doctor, expectHealthy, connect } = doctorCli(db)

/** A copy of the shipped sql/ files in a temporary directory, as another release of cutover would ship them. */
async function sqlDirCopy(): Promise<string> {
  const dir = await tempDir('cutover-sql-')
  for (const file of (await readdir(DEFAULT_SQL_DIR)).filter((f) => f.endsWith('.sql')))
    await copyFile(join(DEFAULT_SQL_DIR, file), join(dir, file))
  return dir
}

/** The control-schema check run as if the code shipped the files of `sqlDir`. */
async function versionFindingsWith(sqlDir: string, schema: string) {
  const client = await connect()
  return controlSchemaVersionCheck(sqlDir)(client, { schema, thresholds: DEFAULT_THRESHOLDS })
}

beforeAll(async () => {
  await setupOrders(db)
  await db.query(`
    INSERT INTO orders (id, customer_id, amount_cents, status) SELECT g, gen_random_uuid()::text, g, 'new' FROM generate_series(1, 200) g;
    CREATE TABLE order_lines (id serial PRIMARY KEY, order_id bigint REFERENCES orders (id));
    INSERT INTO order_lines (order_id) SELECT g FROM generate_series(1, 200) g;`)
  await setPhase(db.pool, 'dual_write')
  expect((await json('backfill', 'orders_v2')).code).toBe(0)
  await setPhase(db.pool, 'shadow_read')
})

describe('cutover doctor: the findings of each situation', { timeout: 240_000 }, () => {
  it('evidence_missing: a ramp forced past its gate with no verify on record is an error naming verify, and verify clears it', async () => {
    // The situation: the ramp gate refuses (no verify since the backfill), and an operator forces it.
    const refused = await run('ramp', 'orders_v2', '10')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      /gate "ramp" not met: no verify since the backfill finished; run: cutover verify orders_v2/,
    )
    expect((await run('ramp', 'orders_v2', '10', '--force')).code).toBe(0)

    const { code, doc } = await doctor('orders_v2')
    expect(code).toBe(1)
    expect(doc).toEqual({
      findings: [
        {
          migration: 'orders_v2',
          severity: 'error',
          code: 'evidence_missing',
          message: 'orders_v2 is in ramp at 10% with no verify on record',
          command: 'cutover verify orders_v2',
        },
      ],
      errors: 1,
      warnings: 0,
      migrations: ['orders_v2'],
    })
    const human = await run(...DOCTOR, 'orders_v2')
    expect(human.code).toBe(1)
    expect(human.stdout.trim().split('\n')).toEqual([
      'error   orders_v2 evidence_missing: orders_v2 is in ramp at 10% with no verify on record; fix: cutover verify orders_v2',
      'doctor: 1 error(s), 0 warning(s), 1 migration(s) checked',
    ])
    expect(human.stderr.trim()).toBe('cutover: doctor found 1 error(s); run the fix printed with each')

    expect((await json('verify', 'orders_v2')).code).toBe(0)
    await expectHealthy()
  })

  it("orphans_unchecked: a lock on the child table that outlasts the doctor's lock timeout is a warning; once it is gone, doctor counts again", async () => {
    const holder = await connect()
    await holder.query('BEGIN')
    await holder.query('LOCK TABLE order_lines IN ACCESS EXCLUSIVE MODE')
    try {
      const { code, doc } = await doctor('orders_v2')
      expect(code).toBe(0)
      expect(doc.findings).toEqual([
        expect.objectContaining({
          migration: 'orders_v2',
          severity: 'warning',
          code: 'orphans_unchecked',
          command: 'cutover doctor orders_v2',
        }),
      ])
      expect(doc.findings[0]?.message).toBe(
        'could not count the rows of public.order_lines (foreign key order_lines_order_id_fkey): canceling statement due to lock timeout; a lock blocks it (see long_transaction)',
      )
      expect(doc.findings[0]?.query).toMatch(/^SELECT c\.\* FROM "public"\."order_lines" c WHERE/)
      expect(doc).toMatchObject({ errors: 0, warnings: 1 })
      const human = await run(...DOCTOR, 'orders_v2')
      expect(human.code).toBe(0)
      expect(human.stdout.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^warning orders_v2 orphans_unchecked: could not count the rows of public\.order_lines .*; fix: cutover doctor orders_v2$/,
        ),
        'doctor: 0 error(s), 1 warning(s), 1 migration(s) checked',
      ])
    } finally {
      await holder.query('ROLLBACK')
    }
    // The command it names, once the lock is gone: the count runs (and finds no orphans).
    const again = await json('doctor', 'orders_v2')
    expect(again.json<DoctorDoc>().findings.map((f) => f.code)).not.toContain('orphans_unchecked')
    await expectHealthy()
  })

  it('orphans_unchecked and parity_unchecked: a lock on the shadow itself (an ALTER TABLE, say) is reported with the long transaction that holds it, not a crash', async () => {
    const holder = await connect()
    const [{ pid }] = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }]
    await holder.query('BEGIN')
    await holder.query('LOCK TABLE orders_v2 IN ACCESS EXCLUSIVE MODE')
    await holder.query('SELECT pg_sleep(0.05)') // its xact_start is now older than --lock-age 0
    try {
      const { code, doc } = await doctor('orders_v2', '--lock-age', '0')
      expect(code).toBe(0)
      expect(doc.findings).toEqual([
        expect.objectContaining({
          severity: 'warning',
          code: 'long_transaction',
          command: `SELECT pg_terminate_backend(${pid})`,
          message: expect.stringMatching(/has held orders_v2 AccessExclusiveLock/),
        }),
        {
          migration: 'orders_v2',
          severity: 'warning',
          code: 'orphans_unchecked',
          command: 'cutover doctor orders_v2',
          message:
            'could not read orders and orders_v2 to count the rows of 1 referencing foreign key(s): canceling statement due to lock timeout; a lock blocks it (see long_transaction)',
        },
      ])
      // With the parity check as well: it cannot read the tables either, and says so.
      const full = await json('doctor', 'orders_v2')
      expect(full.code).toBe(0)
      expect(full.json<DoctorDoc>().findings).toEqual([
        expect.objectContaining({ code: 'orphans_unchecked' }),
        {
          migration: 'orders_v2',
          severity: 'warning',
          code: 'parity_unchecked',
          command: 'cutover doctor orders_v2',
          message:
            'could not read orders and orders_v2 to compare them: canceling statement due to lock timeout; a lock blocks it (see long_transaction)',
        },
      ])
    } finally {
      await holder.query('ROLLBACK')
    }
    await expectHealthy()
    // The command both name, once the lock is gone: parity is checked again (its only gap is the child table's foreign key).
    const again = await json('doctor', 'orders_v2')
    expect(again.json<DoctorDoc>().findings.map((f) => f.code)).toEqual(['parity_foreign_key_in'])
  })

  it('control_schema_ahead: a control schema initialised by a newer cutover is a warning (exit 0) naming the upgrade', async () => {
    // A newer release ships one more numbered file, and its `cutover init` applied it.
    const newer = await sqlDirCopy()
    await writeFile(
      join(newer, '0999_future_table.sql'),
      'CREATE TABLE :CUTOVER_SCHEMA.future_table (id integer PRIMARY KEY);\n',
    )
    await applyControlSchema(db.pool, { schema: 'cutover_future', sqlDir: newer })

    const { code, doc } = await doctor('--schema', 'cutover_future')
    expect(code).toBe(0)
    expect(doc).toEqual({
      findings: [
        {
          migration: null,
          severity: 'warning',
          code: 'control_schema_ahead',
          message:
            'control schema "cutover_future" has file(s) this code does not ship: 0999_future_table.sql; this cutover is older than the one that ran init',
          command: 'upgrade cutover to the version that ran cutover init',
        },
      ],
      errors: 0,
      warnings: 1,
      migrations: [],
    })
    const human = await run(...DOCTOR, '--schema', 'cutover_future')
    expect(human.code).toBe(0)
    expect(human.stdout.trim().split('\n')).toEqual([
      'warning (global) control_schema_ahead: control schema "cutover_future" has file(s) this code does not ship: 0999_future_table.sql; this cutover is older than the one that ran init; fix: upgrade cutover to the version that ran cutover init',
      'doctor: 0 error(s), 1 warning(s), 0 migration(s) checked',
    ])
    // This (older) code's init changes nothing and does not clear it; the code that ships the newer file does.
    const init = await json('init', '--schema', 'cutover_future')
    expect(init.code).toBe(0)
    expect(init.json()).toMatchObject({ applied: [] })
    expect((await doctor('--schema', 'cutover_future')).doc.findings.map((f) => f.code)).toEqual([
      'control_schema_ahead',
    ])
    expect(await versionFindingsWith(newer, 'cutover_future')).toEqual([])
  })

  it("control_schema_changed: an applied control-schema file that differs from the code's is an error; init refuses until the files match", async () => {
    // The database was initialised from a 0004 that differs from the one this code reads:
    // to the check, exactly the situation of a shipped file edited after init.
    const applied = await sqlDirCopy()
    await appendFile(join(applied, '0004_routing_sample.sql'), '\n-- edited after it was applied\n')
    await applyControlSchema(db.pool, { schema: 'cutover_edited', sqlDir: applied })

    const { code, doc } = await doctor('--schema', 'cutover_edited')
    expect(code).toBe(1)
    expect(doc).toEqual({
      findings: [
        {
          migration: null,
          severity: 'error',
          code: 'control_schema_changed',
          message: 'control-schema file(s) 0004_routing_sample.sql differ from what was applied to "cutover_edited"',
          command: 'restore the shipped sql/ files (a change belongs in a new numbered file)',
        },
      ],
      errors: 1,
      warnings: 0,
      migrations: [],
    })
    const human = await run(...DOCTOR, '--schema', 'cutover_edited')
    expect(human.code).toBe(1)
    expect(human.stdout.trim().split('\n')).toEqual([
      'error   (global) control_schema_changed: control-schema file(s) 0004_routing_sample.sql differ from what was applied to "cutover_edited"; fix: restore the shipped sql/ files (a change belongs in a new numbered file)',
      'doctor: 1 error(s), 0 warning(s), 0 migration(s) checked',
    ])
    const init = await run('init', '--schema', 'cutover_edited')
    expect(init.code).toBe(2)
    expect(init.stderr.trim()).toMatch(
      /^cutover: control-schema file 0004_routing_sample\.sql changed after it was applied \(applied [0-9a-f]{12}, now [0-9a-f]{12}\); restore the original file and put the change in a new numbered file$/,
    )
    // With the files restored to what was applied, the check has nothing to report.
    expect(await versionFindingsWith(applied, 'cutover_edited')).toEqual([])
  })

  it('definition_invalid: a shadow column dropped under a registered mapping is an error; registering a definition that fits clears it', async () => {
    // meta is mapped by name; without it on the shadow, reads from the shadow could not return legacy's meta.
    await db.query('ALTER TABLE orders_v2 DROP COLUMN meta')
    const message =
      'migration "orders_v2": legacy column "meta" of public.orders has no backward mapping, so reads from the shadow could not return it; ' +
      `add "backward": {"meta": "<SQL over public.orders_v2's columns>"} (or "NULL")`
    const command =
      'fix the tables or the definition, then: cutover register --config FILE --force, then: cutover verify orders_v2'
    const { code, doc } = await doctor('orders_v2')
    expect(code).toBe(1)
    expect(doc).toEqual({
      findings: [{ migration: 'orders_v2', severity: 'error', code: 'definition_invalid', message, command }],
      errors: 1,
      warnings: 0,
      migrations: ['orders_v2'],
    })
    const human = await run(...DOCTOR, 'orders_v2')
    expect(human.code).toBe(1)
    expect(human.stdout.trim().split('\n')).toEqual([
      `error   orders_v2 definition_invalid: ${message}; fix: ${command}`,
      'doctor: 1 error(s), 0 warning(s), 1 migration(s) checked',
    ])
    // With the parity check too (it also loads the definition), it is still one finding, one error.
    const full = await json('doctor', 'orders_v2')
    expect(full.code).toBe(1)
    expect(full.json<DoctorDoc>()).toEqual({
      findings: [{ migration: 'orders_v2', severity: 'error', code: 'definition_invalid', message, command }],
      errors: 1,
      warnings: 0,
      migrations: ['orders_v2'],
    })

    // The fix it names: a definition that fits the tables as they are now, registered.
    const dir = await tempDir('cutover-config-')
    const config = join(dir, 'cutover.json')
    await writeFile(
      config,
      JSON.stringify({
        migrations: [
          {
            ...ORDERS_CONFIG,
            backward: { ...ORDERS_CONFIG.backward, meta: 'NULL' },
          },
        ],
      }),
    )
    // In shadow_read a changed mapping is refused without --force (it prints the diff); the command doctor named passes.
    expect((await run('register', '--config', config)).code).toBe(1)
    expect((await run('register', '--config', config, '--force')).code).toBe(0)
    expect((await run('verify', 'orders_v2')).code).toBe(0)
    await expectHealthy()
  })
})
