import { beforeAll, describe, expect, it } from 'vitest'
import { parseMigration } from '../../src/core/parse-config.js'
import { runBackfill } from '../../src/jobs/entry/backfill.js'
import { registerMigrations } from '../../src/actions/register.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'

const db = await freshDatabase()
const schema = 'cutover'

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(`
    CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);
    CREATE TABLE items_v2 (id bigint PRIMARY KEY, label text NOT NULL);
    INSERT INTO items SELECT g, 'name ' || g FROM generate_series(1, 1000) AS g;`)
  await registerMigrations(
    db.pool,
    [
      parseMigration({
        name: 'items',
        legacy: { table: 'public.items', key: ['id'] },
        shadow: { table: 'public.items_v2', key: ['id'] },
        forward: { label: 'upper(name)' },
        backward: { name: 'lower(label)' },
      }),
    ],
    { schema, actor: 'test' },
  )
})

describe('backfill over keys dual writes already reached', () => {
  it('keeps every row a dual write put in the shadow and copies all the others, in chunks on either side of them', async () => {
    // Rows a dual write wrote (a later value than legacy's) in chunks 3 and 4 of 10, and one in chunk 9.
    await db.query(
      "INSERT INTO items_v2 SELECT g, 'DUAL ' || g FROM generate_series(250, 320) AS g UNION ALL SELECT 850, 'DUAL 850'",
    )
    const result = await runBackfill(db.pool, {
      schema,
      migration: 'items',
      actor: 'test',
      chunkRows: 100,
      targetChunkMs: 0,
    })
    expect(result).toMatchObject({ rows: 1000, copied: 1000 - 72 })
    expect(await db.query("SELECT count(*)::int AS n FROM items_v2 WHERE label LIKE 'DUAL %'")).toEqual([{ n: 72 }])
    expect(
      await db.query(`SELECT count(*)::int AS n FROM items l JOIN items_v2 s USING (id)
      WHERE s.label = upper(l.name) OR s.label = 'DUAL ' || l.id`),
    ).toEqual([{ n: 1000 }])
  })
})
