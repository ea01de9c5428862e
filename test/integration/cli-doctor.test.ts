import { copyFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { applyControlSchema } from '../../src/store/control-schema/apply-control-schema.js'
import { DEFAULT_SQL_DIR } from '../../src/store/control-schema/sql-files.js'
import { freshDatabase } from '../support/database.js'
import { DOCTOR, doctorCli, type DoctorDoc } from '../support/doctor-cli.js'
import { setPhase, setupOrders } from '../support/orders-fixture.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const { run, json, doctor, expectHealthy, connect } = doctorCli(db)
const codes = (doc: DoctorDoc) => doc.findings.map((f) => f.code).sort()

beforeAll(async () => {
  await setupOrders(db)
  await db.query(`
    ALTER TABLE orders ADD CONSTRAINT orders_customer_id_key UNIQUE (customer_id);
    INSERT INTO orders (id, customer_id, amount_cents, status) SELECT g, gen_random_uuid()::text, g, 'new' FROM generate_series(1, 200) g;
    CREATE TABLE order_lines (id serial PRIMARY KEY, order_id bigint REFERENCES orders (id));
    INSERT INTO order_lines (order_id) SELECT g FROM generate_series(1, 200) g, generate_series(1, 2);
    INSERT INTO order_lines (order_id) VALUES (NULL);
    CREATE TABLE customer_notes (id serial PRIMARY KEY, customer_id varchar(36) CONSTRAINT notes_customer_fk REFERENCES orders (customer_id));
    INSERT INTO customer_notes (customer_id) SELECT customer_id FROM orders;`)
  await setPhase(db.pool, 'dual_write')
  expect((await json('backfill', 'orders_v2')).code).toBe(0)
  expect((await json('verify', 'orders_v2')).code).toBe(0)
  await setPhase(db.pool, 'shadow_read')
  await setPhase(db.pool, 'ramp', 10)
})

describe('cutover doctor', { timeout: 240_000 }, () => {
  it('reports no findings and exits 0 on a healthy migration, one migration or all of them', async () => {
    await expectHealthy()
    const all = await doctor()
    expect(all.code).toBe(0)
    expect(all.doc.findings).toEqual([])
    const human = await run(...DOCTOR)
    expect(human.code).toBe(0)
    expect(human.stdout.trim()).toBe('doctor: no findings, 1 migration(s) checked')
  })

  it('refuses a control schema that does not exist with one line and exit 2, and an unknown migration with exit 2', async () => {
    const missing = await run(...DOCTOR, '--schema', 'nowhere')
    expect(missing.code).toBe(2)
    const target = new URL(db.url)
    expect(missing.stderr.trim()).toBe(
      `cutover: no control schema "nowhere" in the database at ${target.hostname}:${target.port}${target.pathname}; ` +
        'if it lives elsewhere, pass --schema NAME or --database-url postgres://…/DB; if this is the right place and it was never created, run: cutover init --schema nowhere',
    )
    expect(missing.stdout).toBe('')
    const unknown = await run(...DOCTOR, 'nope')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr.trim()).toBe(
      'cutover: unknown migration "nope"; list the registered ones with: cutover status',
    )
  })

  it('1. stale evidence: a clean verify older than --evidence-max-age is a warning (exit 0) naming verify', async () => {
    const { code, doc } = await doctor('orders_v2', '--evidence-max-age', '0')
    expect(code).toBe(0)
    expect(doc.findings).toEqual([
      expect.objectContaining({
        migration: 'orders_v2',
        severity: 'warning',
        code: 'evidence_stale',
        command: 'cutover verify orders_v2',
      }),
    ])
    expect(doc.findings[0]?.message).toMatch(
      /in ramp at 10%; its last clean verify .* is stale: it is \d+ s old \(limit 0 s\)$/,
    )
    expect(doc).toMatchObject({ errors: 0, warnings: 1 })
    const human = await run(...DOCTOR, 'orders_v2', '--evidence-max-age', '0')
    expect(human.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^warning orders_v2 evidence_stale: .*; fix: cutover verify orders_v2$/),
      'doctor: 0 error(s), 1 warning(s), 1 migration(s) checked',
    ])
  })

  it('1 and 5. a verify that found differences, then the repair after it, then a fresh verify clears everything', async () => {
    await db.query(`UPDATE orders_v2 SET status = 'corrupt' WHERE id = 11`)
    expect((await json('verify', 'orders_v2')).code).toBe(1)
    const found = await doctor('orders_v2')
    expect(found.code).toBe(1)
    expect(codes(found.doc)).toEqual(['divergences_open', 'evidence_not_clean'])
    expect(found.doc.findings.find((f) => f.code === 'divergences_open')).toMatchObject({
      severity: 'error',
      command: 'cutover repair orders_v2',
      message: expect.stringMatching(/^1 unrepaired divergence\(s\) \(1 mismatch\), the oldest first seen 20\d\d-/),
    })
    expect(found.doc.findings.find((f) => f.code === 'evidence_not_clean')?.command).toBe(
      'cutover repair orders_v2 && cutover verify orders_v2',
    )
    const human = await run(...DOCTOR, 'orders_v2')
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(/^error +orders_v2 divergences_open: .*; fix: cutover repair orders_v2$/m)
    expect(human.stdout.trim().split('\n').at(-1)).toBe('doctor: 2 error(s), 0 warning(s), 1 migration(s) checked')
    expect(human.stderr.trim()).toBe('cutover: doctor found 2 error(s); run the fix printed with each')

    expect((await json('repair', 'orders_v2')).code).toBe(0)
    const repaired = await doctor('orders_v2')
    expect(repaired.code).toBe(1)
    expect(repaired.doc.findings).toEqual([
      expect.objectContaining({ code: 'evidence_not_clean', severity: 'error', command: 'cutover verify orders_v2' }),
    ])
    expect(repaired.doc.findings[0]?.message).toMatch(
      /found differences; a repair ran after it \(20.*\), so verify again$/,
    )

    expect((await json('verify', 'orders_v2')).code).toBe(0)
    await expectHealthy()
  })

  it('1 and 5. divergences seen after the last clean verify make it stale and are unrepaired', async () => {
    await db.query(
      `INSERT INTO cutover.divergences (migration, key, source, kind, detail) VALUES ('orders_v2', '{"id": "12"}', 'read', 'mismatch', 'seen by a read')`,
    )
    const { code, doc } = await doctor('orders_v2')
    expect(code).toBe(1)
    expect(codes(doc)).toEqual(['divergences_open', 'evidence_stale'])
    expect(doc.findings.find((f) => f.code === 'evidence_stale')?.message).toMatch(
      /1 divergence\(s\) were seen after it/,
    )
    expect((await json('repair', 'orders_v2')).code).toBe(0)
    expect((await json('verify', 'orders_v2')).code).toBe(0)
    await expectHealthy()
  })

  it('2. a chunk leased by a dead worker names the command that resumes, and that command clears it', async () => {
    await db.query(`
      WITH j AS (
        INSERT INTO cutover.jobs (migration, kind, low_key, high_key, cursor_key, total_estimate, started_by)
        SELECT migration, 'backfill', low_key, high_key, '["100"]', total_estimate, 'crashed-host'
          FROM cutover.jobs WHERE migration = 'orders_v2' AND kind = 'backfill' AND status = 'done' ORDER BY id DESC LIMIT 1
        RETURNING id)
      INSERT INTO cutover.job_chunks (job_id, chunk_no, low_key, high_key, leased_by, lease_until)
      SELECT id, 1, NULL, '["100"]', 'worker-on-crashed-host', clock_timestamp() - interval '2 minutes' FROM j`)
    const { code, doc } = await doctor('orders_v2')
    expect(code).toBe(1)
    expect(doc.findings).toEqual([
      expect.objectContaining({
        migration: 'orders_v2',
        severity: 'error',
        code: 'lease_expired',
        command: 'cutover backfill orders_v2',
      }),
    ])
    expect(doc.findings[0]?.message).toMatch(
      /^backfill job \d+: 1 chunk\(s\) leased by worker-on-crashed-host expired at /,
    )

    const resumed = await json('backfill', 'orders_v2')
    expect(resumed.code).toBe(0)
    expect(resumed.json()).toMatchObject({ resumed: true })
    // The resumed backfill ran after the last verify: that is the only thing left.
    expect(codes((await doctor('orders_v2')).doc)).toEqual(['evidence_stale'])
    expect((await json('verify', 'orders_v2')).code).toBe(0)
    await expectHealthy()
  })

  it('4. a running backfill whose progress has not moved for --stale-after is reported; a fresh one is not', async () => {
    const [job] = await db.query<{ id: string }>(`
      INSERT INTO cutover.jobs (migration, kind, low_key, high_key, cursor_key, total_estimate, rows_done, started_by, updated_at)
      SELECT migration, 'backfill', low_key, high_key, '["150"]', total_estimate, 150, 'stuck-host', clock_timestamp() - interval '10 minutes'
        FROM cutover.jobs WHERE migration = 'orders_v2' AND kind = 'backfill' AND status = 'done' ORDER BY id DESC LIMIT 1
      RETURNING id::text`)
    const stalled = await doctor('orders_v2', '--stale-after', '300')
    expect(stalled.code).toBe(1)
    expect(stalled.doc.findings).toEqual([
      expect.objectContaining({ severity: 'error', code: 'job_stalled', command: 'cutover backfill orders_v2' }),
    ])
    expect(stalled.doc.findings[0]?.message).toMatch(
      new RegExp(`^backfill job ${job?.id} has not advanced for \\d+ s \\(150 rows done, last progress `),
    )
    expect((await doctor('orders_v2', '--stale-after', '3600')).doc.findings).toEqual([])

    expect((await json('backfill', 'orders_v2')).code).toBe(0)
    expect((await json('verify', 'orders_v2')).code).toBe(0)
    await expectHealthy()
  })

  it('3. a listener whose heartbeat is stale is a warning with its pid and host; --apply removes its row, prints it, and checks again', async () => {
    const nothing = await run(...DOCTOR, '--apply')
    expect(nothing.code).toBe(0)
    expect(nothing.stdout).toMatch(/^doctor --apply: no finding carries SQL to apply; nothing was changed$/m)

    await db.query(`INSERT INTO cutover.instances (id, host, pid, heartbeat_at, applied) VALUES
      ('gone-1', 'app-7', 4242, clock_timestamp() - interval '10 minutes', '{"orders_v2": 1}'),
      ('alive-1', 'app-8', 4343, clock_timestamp(), (SELECT jsonb_build_object('orders_v2', version) FROM cutover.state WHERE migration = 'orders_v2'))`)
    const { code, doc } = await doctor('--stale-after', '300')
    expect(code).toBe(0)
    expect(doc.findings).toEqual([
      expect.objectContaining({ migration: null, severity: 'warning', code: 'listener_stale' }),
    ])
    expect(doc.findings[0]?.message).toMatch(/^instance gone-1 \(pid 4242 on app-7\) last sent a heartbeat \d+ s ago/)
    expect(doc.findings[0]?.command).toBe(
      'check pid 4242 on app-7; if it is gone, remove its row with cutover doctor --apply',
    )
    expect(await db.query('SELECT id FROM cutover.instances ORDER BY id')).toEqual([
      { id: 'alive-1' },
      { id: 'gone-1' },
    ])

    const applied = await run(...DOCTOR, '--stale-after', '300', '--apply')
    expect(applied.code).toBe(0)
    expect(applied.stdout.trim().split('\n')).toEqual([
      `applied: SELECT "cutover".forget_stale_instance('gone-1', 300)`,
      'doctor: checking again after --apply',
      'doctor: no findings, 1 migration(s) checked',
    ])
    expect(await db.query('SELECT id FROM cutover.instances ORDER BY id')).toEqual([{ id: 'alive-1' }])
    await db.query(`DELETE FROM cutover.instances`)
  })

  it('3. a live listener that has not applied the current state version is an error naming its pid, host and backend', async () => {
    await db.query(
      `UPDATE cutover.state SET updated_at = updated_at - interval '10 minutes' WHERE migration = 'orders_v2'`,
    )
    await db.query(`INSERT INTO cutover.instances (id, host, pid, backend_pid, applied) VALUES
      ('lagging-1', 'app-9', 5151, 777, '{"orders_v2": 1}'),
      ('current-1', 'app-9', 5252, 778, (SELECT jsonb_build_object('orders_v2', version) FROM cutover.state WHERE migration = 'orders_v2'))`)
    const [state] = await db.query<{ version: string }>(
      `SELECT version::text FROM cutover.state WHERE migration = 'orders_v2'`,
    )
    const { code, doc } = await doctor('orders_v2', '--stale-after', '300')
    expect(code).toBe(1)
    expect(doc.findings).toEqual([
      expect.objectContaining({ migration: 'orders_v2', severity: 'error', code: 'listener_behind' }),
    ])
    expect(doc.findings[0]?.message).toMatch(
      new RegExp(
        `^instance lagging-1 \\(pid 5151 on app-9\\) is alive but applied state version 1, not ${state?.version} `,
      ),
    )
    expect(doc.findings[0]?.command).toBe(
      'check pid 5151 on app-9 and its LISTEN connection (SELECT state, wait_event FROM pg_stat_activity WHERE pid = 777); restart it if it does not catch up',
    )
    await db.query(`DELETE FROM cutover.instances`)
    await expectHealthy()
  })

  it('6. a long transaction holding a lock on a table is a warning with its pid; once it blocks another session it is an error', async () => {
    const holder = await connect()
    const [{ pid }] = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }]
    await holder.query('BEGIN')
    await holder.query('SELECT * FROM orders WHERE id = 1 FOR UPDATE')
    await holder.query('SELECT count(*) FROM orders_v2')
    await holder.query('SELECT pg_sleep(0.05)') // its xact_start is now older than --lock-age 0

    const idle = await doctor('orders_v2', '--lock-age', '0')
    expect(idle.code).toBe(0)
    expect(idle.doc.findings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'long_transaction',
        command: `SELECT pg_terminate_backend(${pid})`,
      }),
    ])
    expect(idle.doc.findings[0]?.message).toMatch(
      new RegExp(
        `^pid ${pid} \\(.*\\) has held (orders|orders_v2) .*Lock, .* for \\d+ s, state idle in transaction, last query started 20`,
      ),
    )
    expect(idle.doc.findings[0]?.message).toMatch(/orders RowShareLock/)
    expect(idle.doc.findings[0]?.message).toMatch(/orders_v2 AccessShareLock/)
    expect((await doctor('orders_v2')).doc.findings).toEqual([])

    const waiter = await connect()
    const [{ pid: waiterPid }] = (await waiter.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [
      { pid: number },
    ]
    const blocked = waiter.query(`UPDATE orders SET status = status WHERE id = 1`)
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      const rows = await db.query<{ n: number }>('SELECT cardinality(pg_blocking_pids($1)) AS n', [waiterPid])
      if (rows[0]?.n) break
      await new Promise((r) => setTimeout(r, 50))
    }
    try {
      const blocking = await doctor('orders_v2', '--lock-age', '0')
      expect(blocking.code).toBe(1)
      const holderFinding = blocking.doc.findings.find((f) => f.command === `SELECT pg_terminate_backend(${pid})`)
      expect(holderFinding).toMatchObject({
        severity: 'error',
        code: 'long_transaction',
        message: expect.stringMatching(/; other sessions wait on it$/),
      })
      // The waiting session holds a lock on orders too (its own RowExclusiveLock), and blocks no one.
      expect(blocking.doc.findings.filter((f) => f !== holderFinding)).toEqual([
        expect.objectContaining({
          severity: 'warning',
          code: 'long_transaction',
          command: `SELECT pg_terminate_backend(${waiterPid})`,
          message: expect.stringMatching(/orders RowExclusiveLock .*state active/),
        }),
      ])
      // Only text: the holder is still there.
      expect((await holder.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }])
    } finally {
      await holder.query('ROLLBACK')
      await blocked
    }
    await expectHealthy()
  })

  it('8. orphans: child rows whose key would not exist in the shadow, per foreign key, through the backward mapping, with the query that lists them', async () => {
    const [gone] = await db.query<{ customer_id: string }>('SELECT customer_id FROM orders WHERE id = 7')
    await db.query('DELETE FROM orders_v2 WHERE id = 7')
    const { code, doc } = await doctor('orders_v2')
    expect(code).toBe(0) // before shadow_primary, orphans are warnings
    const orphans = doc.findings.filter((f) => f.code === 'orphans')
    expect(orphans.map((f) => [f.severity, f.message.replace(/; list them with: .*/, '')])).toEqual([
      [
        'warning',
        '1 row(s) of public.customer_notes (foreign key notes_customer_fk on customer_id) reference legacy rows missing from orders_v2',
      ],
      [
        'warning',
        '2 row(s) of public.order_lines (foreign key order_lines_order_id_fkey on order_id) reference legacy rows missing from orders_v2',
      ],
    ])
    expect(orphans.map((f) => f.command)).toEqual([
      'cutover verify orders_v2 && cutover repair orders_v2',
      'cutover verify orders_v2 && cutover repair orders_v2',
    ])
    // The queries list exactly those rows (and the customer one goes through backward: customer_id = customer::text).
    expect(orphans[0]?.query).toMatch(/\(\(\(customer\)::text\)::character varying\) = c\."customer_id"/)
    expect(await db.query(orphans[0]?.query as string)).toEqual([
      expect.objectContaining({ customer_id: gone?.customer_id }),
    ])
    expect((await db.query<{ order_id: string }>(orphans[1]?.query as string)).map((r) => r.order_id)).toEqual([
      '7',
      '7',
    ])

    expect((await json('verify', 'orders_v2')).code).toBe(1)
    expect((await json('repair', 'orders_v2')).code).toBe(0)
    expect((await json('verify', 'orders_v2')).code).toBe(0)
    await expectHealthy()
  })

  it('8. orphans are errors once the shadow is primary', async () => {
    await db.query('DELETE FROM orders_v2 WHERE id = 8')
    await setPhase(db.pool, 'shadow_primary')
    const { code, doc } = await doctor('orders_v2')
    expect(code).toBe(1)
    expect(doc.findings.filter((f) => f.code === 'orphans').map((f) => f.severity)).toEqual(['error', 'error'])
    await db.query(`INSERT INTO orders_v2 (id, customer, amount, status, placed_at, meta)
                    SELECT id, customer_id::uuid, amount_cents / 100.0, status, placed_at, meta FROM orders WHERE id = 8`)
    expect((await doctor('orders_v2')).doc.findings.filter((f) => f.code === 'orphans')).toEqual([])
    await setPhase(db.pool, 'ramp', 10)
  })

  it('7. a control schema behind the code names cutover init, and init clears it', async () => {
    const dir = await tempDir('cutover-sql-')
    try {
      for (const file of ['0001_control_schema.sql', '0002_chunk_lease_index.sql'])
        await copyFile(join(DEFAULT_SQL_DIR, file), join(dir, file))
      await applyControlSchema(db.pool, { schema: 'cutover_old', sqlDir: dir })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    const missingFiles = (await readdir(DEFAULT_SQL_DIR))
      .filter((f) => /^\d{4}_.*\.sql$/.test(f) && f > '0002_z')
      .sort()
    const { code, doc } = await doctor('--schema', 'cutover_old')
    expect(code).toBe(1)
    expect(doc.findings).toEqual([
      {
        migration: null,
        severity: 'error',
        code: 'control_schema_behind',
        message: `control schema "cutover_old" lacks ${missingFiles.length} file(s) this code needs: ${missingFiles.join(', ')}`,
        command: 'cutover init',
      },
    ])
    expect((await run('init', '--schema', 'cutover_old')).code).toBe(0)
    const after = await doctor('--schema', 'cutover_old')
    expect(after).toEqual({ code: 0, doc: { findings: [], errors: 0, warnings: 0, migrations: [] } })
  })
})
