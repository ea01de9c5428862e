import { describe, expect, it } from 'vitest'
import { parseMigration } from '../../src/core/parse-config.js'
import { MAX_VERIFY_RECORD_ROWS } from '../../src/jobs/job-defaults.js'
import { runVerify } from '../../src/jobs/entry/verify.js'
import { registerMigrations } from '../../src/actions/register.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'

const db = await freshDatabase()
const schema = 'cutover'
// One chunk holding more legacy keys than one recording statement takes: its differences are recorded in ranges.
const ROWS = MAX_VERIFY_RECORD_ROWS * 2 + 500

describe('verify of a chunk larger than one recording statement', () => {
  it('records every difference of the chunk once, across its ranges, with the same counts', async () => {
    await initControl(db.pool)
    await db.query(`
      CREATE TABLE big (id int PRIMARY KEY, v text NOT NULL);
      CREATE TABLE big_v2 (id int PRIMARY KEY, v text NOT NULL);
      INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, ${ROWS}) AS g;
      INSERT INTO big_v2 SELECT id, v FROM big;
      -- differences on both sides of each range edge, and at the ends
      UPDATE big_v2 SET v = 'changed' WHERE id IN (1, ${MAX_VERIFY_RECORD_ROWS}, ${MAX_VERIFY_RECORD_ROWS + 1}, ${2 * MAX_VERIFY_RECORD_ROWS + 1}, ${ROWS});
      DELETE FROM big_v2 WHERE id IN (${MAX_VERIFY_RECORD_ROWS - 1}, ${MAX_VERIFY_RECORD_ROWS + 2});
      INSERT INTO big_v2 VALUES (${ROWS + 10}, 'extra');
    `)
    await registerMigrations(
      db.pool,
      [
        parseMigration({
          name: 'big',
          legacy: { table: 'big', key: ['id'] },
          shadow: { table: 'big_v2', key: ['id'] },
        }),
      ],
      { schema, actor: 'test' },
    )
    const result = await runVerify(db.pool, {
      schema,
      migration: 'big',
      actor: 'test',
      chunkRows: ROWS + 100,
      targetChunkMs: 0,
      limit: 100,
    })
    expect(result.rowsCompared).toBe(ROWS + 1)
    expect(result.counts).toEqual({ mismatch: 5, missing_in_shadow: 2, missing_in_legacy: 1 })
    const chunks = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM cutover.job_chunks WHERE job_id = $1`,
      [result.jobId],
    )
    expect(chunks[0]?.n).toBe(1)
    const rows = await db.query<{ id: number; kind: string; seen: number }>(
      `SELECT (key ->> 'id')::int AS id, kind, seen_count AS seen FROM cutover.divergences WHERE migration = 'big' ORDER BY 1`,
    )
    expect(rows).toEqual([
      { id: 1, kind: 'mismatch', seen: 1 },
      { id: MAX_VERIFY_RECORD_ROWS - 1, kind: 'missing_in_shadow', seen: 1 },
      { id: MAX_VERIFY_RECORD_ROWS, kind: 'mismatch', seen: 1 },
      { id: MAX_VERIFY_RECORD_ROWS + 1, kind: 'mismatch', seen: 1 },
      { id: MAX_VERIFY_RECORD_ROWS + 2, kind: 'missing_in_shadow', seen: 1 },
      { id: 2 * MAX_VERIFY_RECORD_ROWS + 1, kind: 'mismatch', seen: 1 },
      { id: ROWS, kind: 'mismatch', seen: 1 },
      { id: ROWS + 10, kind: 'missing_in_legacy', seen: 1 },
    ])
  }, 120_000)
})
