import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerMigrations } from '../../src/actions/register.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { runRepair } from '../../src/jobs/entry/repair.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { runDoctor } from '../../src/store/doctor/run-doctor.js'
import { DEFAULT_THRESHOLDS } from '../../src/store/doctor/finding.js'
import { ConfigInvalid } from '../../src/core/errors.js'
import { controlSnapshot, initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, setPhase } from '../support/orders-fixture.js'
import { until } from '../support/until.js'

const db = await freshDatabase()
const schema = 'cutover'
const migration = 'sales_v2'
let close: () => Promise<void> = async () => undefined
let dal: Awaited<ReturnType<Awaited<ReturnType<typeof connectCutover>>['cutover']['migration']>>

/** Monthly partitions of early 2026 and a default partition for every other month. */
const MONTHS = ['2026-01', '2026-02', '2026-03']
const SALES = `
  CREATE TABLE sales (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, amount int NOT NULL, note text);
  CREATE TABLE sales_v2 (id bigint NOT NULL, created_at timestamptz NOT NULL, amount int NOT NULL, note text,
                         PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);
  ${MONTHS.map((m, i) => `CREATE TABLE sales_v2_${i} PARTITION OF sales_v2 FOR VALUES FROM ('${m}-01 00:00+00') TO ('${m}-01 00:00+00'::timestamptz + interval '1 month');`).join('\n  ')}
  CREATE TABLE sales_v2_other PARTITION OF sales_v2 DEFAULT;
  INSERT INTO sales SELECT g, timestamptz '2025-12-15 00:00+00' + (g % 120) * interval '1 day', g, 'n' || g FROM generate_series(1, 3000) g;`

const definition = (name = migration, shadow = 'public.sales_v2') =>
  parseMigration({ name, legacy: { table: 'public.sales', key: ['id'] }, shadow: { table: shadow, key: ['id'] } })

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(SALES)
})
afterAll(async () => close())

async function contents(table: string): Promise<unknown[]> {
  return db.query(`SELECT id::text, created_at, amount, note FROM ${table} ORDER BY id, created_at`)
}

describe('a shadow partitioned by month, with the legacy key as its logical key', { timeout: 180_000 }, () => {
  it('registers, saying that no index enforces the logical key alone', async () => {
    const [registered] = await registerMigrations(db.pool, [definition()], { schema, actor: 'test' })
    expect(registered?.notes).toEqual([
      'no index of partitioned public.sales_v2 enforces the uniqueness of its key (id) alone; rows are found by it and written through (id, created_at); ' +
        'while legacy is authoritative its key enforces it, and verify and doctor report duplicates',
    ])
  })

  it('under DAL inserts, updates (moving rows across partitions) and deletes during a backfill, ends identical to legacy, verify clean', async () => {
    const connected = await connectCutover(db)
    close = async () => {
      await connected.cutover.close()
      await connected.pool.end()
    }
    dal = await connected.cutover.migration(migration)
    await setPhase(db.pool, 'dual_write', undefined, migration)
    await connected.cutover.watcher.poll()
    expect(dal.state.phase).toBe('dual_write')

    const backfill = runBackfill(db.pool, { schema, migration, actor: 'test', chunkRows: 100, targetChunkMs: 0 })
    const writes = (async () => {
      for (let i = 0; i < 60; i++) {
        const id = 1 + ((i * 97) % 3000)
        // Into another month (and at times into the default partition), and back.
        await dal.update(id, { created_at: `2026-0${1 + (i % 3)}-20T10:00:00+00`, amount: -i })
        await dal.update(id + 1, { created_at: '2027-06-01T00:00:00+00' })
        await dal.insert({
          id: String(10_000 + i),
          created_at: `2026-0${1 + (i % 3)}-0${1 + (i % 9)}T00:00:00+00`,
          amount: i,
          note: null,
        })
        if (i % 3 === 0) await dal.delete(id + 2)
        if (i % 5 === 0)
          await dal.upsert({
            id: String(10_000 + i),
            created_at: '2025-11-11T00:00:00+00',
            amount: 7,
            note: 'upserted',
          })
      }
    })()
    await Promise.all([backfill, writes])
    // Rows moved by the DAL landed in the partition their month names.
    expect(
      await db.query("SELECT count(*)::int AS n FROM sales_v2_other WHERE created_at = '2027-06-01 00:00+00'"),
    ).toEqual([{ n: 60 }])
    expect(await contents('sales_v2')).toEqual(await contents('sales'))
    const verified = await runVerify(db.pool, { schema, migration, actor: 'test', chunkRows: 500 })
    expect(verified).toMatchObject({ clean: true, rowsCompared: 3000 + 60 - 20 })
  })

  it("an update moving a row that waited on a backfill chunk's lock also moves the shadow row that chunk committed meanwhile", async () => {
    const id = 2999
    await db.query('DELETE FROM sales_v2 WHERE id = $1', [id])
    // As a backfill chunk does: lock the legacy row FOR SHARE and copy it into the shadow (its old partition).
    const chunk = await db.pool.connect()
    try {
      await chunk.query('BEGIN')
      await chunk.query('SELECT 1 FROM sales WHERE id = $1 FOR SHARE', [id])
      await chunk.query('INSERT INTO sales_v2 SELECT * FROM sales WHERE id = $1', [id])
      const moving = dal.update(id, { created_at: '2026-03-30T00:00:00+00' })
      await until(
        async () =>
          (
            await db.query<{ n: number }>(
              'SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = \'Lock\' AND query LIKE \'%UPDATE "public"."sales"%\'',
            )
          )[0]?.n === 1,
        10_000,
        'the update to wait on the chunk',
      )
      await chunk.query('COMMIT')
      await moving
    } finally {
      chunk.release()
    }
    expect(await db.query('SELECT created_at FROM sales_v2 WHERE id = $1', [id])).toEqual([
      { created_at: new Date('2026-03-30T00:00:00Z') },
    ])
    expect(await contents('sales_v2')).toEqual(await contents('sales'))
  })

  it('verify and doctor report a logical key the shadow holds twice, and repair leaves the one legacy has', async () => {
    await db.query(
      "INSERT INTO sales_v2 SELECT id, created_at + interval '40 days', amount, note FROM sales_v2 WHERE id = 500",
    )
    const verified = await runVerify(db.pool, { schema, migration, actor: 'test', chunkRows: 500 })
    expect(verified.clean).toBe(false)
    expect(verified.differences).toEqual([expect.objectContaining({ kind: 'mismatch', key: { id: '500' } })])
    const report = await runDoctor(db.pool, { schema, migration, thresholds: DEFAULT_THRESHOLDS })
    expect(report.findings.filter((f) => f.code === 'shadow_key_duplicates')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message:
          '1 key(s) of public.sales_v2 have more than one row (its unique key (id, created_at) includes partition columns, so no index refuses them), such as (500); list them with: ' +
          'SELECT "id", count(*) FROM "public"."sales_v2" GROUP BY "id" HAVING count(*) > 1',
      }),
    ])
    await runRepair(db.pool, { schema, migration, actor: 'test' })
    expect(await contents('sales_v2')).toEqual(await contents('sales'))
    expect((await runVerify(db.pool, { schema, migration, actor: 'test', chunkRows: 500 })).clean).toBe(true)
  })
})

describe('bad input: one line naming the fix, nothing written', { timeout: 60_000 }, () => {
  async function refusal(def: ReturnType<typeof definition>): Promise<string> {
    const before = await controlSnapshot(db.pool)
    const error = await registerMigrations(db.pool, [def], { schema, actor: 'test' }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ConfigInvalid)
    expect(await controlSnapshot(db.pool)).toBe(before)
    return (error as Error).message
  }

  it('a partitioned shadow with no unique key at all: the DDL suggested is one PostgreSQL accepts, and then it registers', async () => {
    await db.query(`CREATE TABLE bare_v2 (id bigint NOT NULL, created_at timestamptz NOT NULL, amount int NOT NULL, note text) PARTITION BY RANGE (created_at);
                    CREATE TABLE bare_v2_all PARTITION OF bare_v2 DEFAULT;`)
    const message = await refusal(definition('bare_v2', 'public.bare_v2'))
    const ddl = 'CREATE UNIQUE INDEX ON "public"."bare_v2" ("id", "created_at")'
    expect(message).toBe(
      `migration "bare_v2": shadow key (id) is not the primary key or a unique index of public.bare_v2; add one: ${ddl}`,
    )
    await db.query(ddl)
    expect(
      await registerMigrations(db.pool, [definition('bare_v2', 'public.bare_v2')], { schema, actor: 'test' }),
    ).toHaveLength(1)
  })

  it('a plain shadow with no unique key at all: the DDL suggested is one PostgreSQL accepts', async () => {
    await db.query(
      'CREATE TABLE flat_v2 (id bigint NOT NULL, created_at timestamptz NOT NULL, amount int NOT NULL, note text)',
    )
    const message = await refusal(definition('flat_v2', 'public.flat_v2'))
    const ddl = 'CREATE UNIQUE INDEX ON "public"."flat_v2" ("id")'
    expect(message).toBe(
      `migration "flat_v2": shadow key (id) is not the primary key or a unique index of public.flat_v2; add one: ${ddl}`,
    )
    await db.query(ddl)
  })

  it('a partition column the mapping cannot fill', async () => {
    await db.query(`CREATE TABLE dated_v2 (id bigint NOT NULL, booked_on date NOT NULL DEFAULT current_date, created_at timestamptz NOT NULL, amount int NOT NULL, note text,
                      PRIMARY KEY (id, booked_on)) PARTITION BY RANGE (booked_on);
                    CREATE TABLE dated_v2_all PARTITION OF dated_v2 DEFAULT;`)
    expect(await refusal(definition('dated_v2', 'public.dated_v2'))).toBe(
      'migration "dated_v2": shadow partition column "booked_on" of public.dated_v2 gets no value from the mapping, ' +
        'so a row\'s partition could not be found again; add "forward": {"booked_on": "<SQL over public.sales\'s columns>"}',
    )
  })
})
