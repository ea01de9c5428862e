import { cp, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { ControlSchemaChanged } from '../../src/core/errors.js'
import { applyControlSchema, controlSchemaVersions } from '../../src/store/control-schema/apply-control-schema.js'
import { DEFAULT_SQL_DIR, readSqlFiles } from '../../src/store/control-schema/sql-files.js'
import { freshDatabase } from '../support/database.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()

async function copySqlDir(): Promise<string> {
  const dir = await tempDir('cutover-sql-')
  await cp(DEFAULT_SQL_DIR, dir, { recursive: true })
  return dir
}

describe('the control-schema runner', () => {
  it('applies every numbered file once and records each with its checksum', async () => {
    const files = await readSqlFiles()
    const result = await applyControlSchema(db.pool, { schema: 'ctl_a' })
    expect(result.applied).toEqual(files.map((f) => f.file))
    const rows = await db.query<{ file: string; checksum: string }>(
      'SELECT file, checksum FROM ctl_a.schema_versions ORDER BY version',
    )
    expect(rows).toEqual(files.map((f) => ({ file: f.file, checksum: f.checksum })))
    const tables = await db.query<{ t: string }>(
      "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'ctl_a' ORDER BY 1",
    )
    expect(tables.map((r) => r.t)).toEqual(
      expect.arrayContaining([
        'migrations',
        'state',
        'events',
        'divergences',
        'jobs',
        'job_chunks',
        'instances',
        'schema_versions',
      ]),
    )
  })

  it('is a no-op when run again', async () => {
    await applyControlSchema(db.pool, { schema: 'ctl_b' })
    const before = await db.query('SELECT version, applied_at FROM ctl_b.schema_versions ORDER BY version')
    const again = await applyControlSchema(db.pool, { schema: 'ctl_b' })
    expect(again.applied).toEqual([])
    expect(again.alreadyApplied.length).toBe(before.length)
    expect(await db.query('SELECT version, applied_at FROM ctl_b.schema_versions ORDER BY version')).toEqual(before)
  })

  it('refuses a file whose checksum changed after it was applied, and applies nothing after it', async () => {
    const dir = await copySqlDir()
    await applyControlSchema(db.pool, { schema: 'ctl_c', sqlDir: dir })
    const first = join(dir, '0001_control_schema.sql')
    await writeFile(first, (await readFile(first, 'utf8')) + '\n-- edited later\n')
    await writeFile(join(dir, '9999_later_file.sql'), 'CREATE TABLE :CUTOVER_SCHEMA.later (id int);')
    const error = await applyControlSchema(db.pool, { schema: 'ctl_c', sqlDir: dir }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ControlSchemaChanged)
    expect((error as Error).message).toMatch(
      /^control-schema file 0001_control_schema\.sql changed after it was applied .*put the change in a new numbered file$/,
    )
    expect(await db.query("SELECT 1 FROM pg_tables WHERE schemaname = 'ctl_c' AND tablename = 'later'")).toEqual([])
  })

  it('rolls back a file that fails halfway, leaving no half-applied file', async () => {
    const dir = await copySqlDir()
    await writeFile(
      join(dir, '0900_broken.sql'),
      'CREATE TABLE :CUTOVER_SCHEMA.half (id int);\nSELECT no_such_function();',
    )
    await expect(applyControlSchema(db.pool, { schema: 'ctl_d', sqlDir: dir })).rejects.toThrow(/no_such_function/)
    expect(await db.query("SELECT 1 FROM pg_tables WHERE schemaname = 'ctl_d' AND tablename = 'half'")).toEqual([])
    expect(await db.query('SELECT version FROM ctl_d.schema_versions WHERE version = 900')).toEqual([])
    const shipped = (await readSqlFiles()).length
    expect((await db.query('SELECT count(*)::int AS n FROM ctl_d.schema_versions'))[0]).toEqual({ n: shipped })
  })

  it('applies each file exactly once when several processes run it at the same moment', async () => {
    const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: db.url, max: 1 }))
    try {
      const results = await Promise.all(pools.map((pool) => applyControlSchema(pool, { schema: 'ctl_e' })))
      const files = await readSqlFiles()
      expect(results.flatMap((r) => r.applied).sort()).toEqual(files.map((f) => f.file).sort())
      const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ctl_e.schema_versions')
      expect(rows[0]?.n).toBe(files.length)
    } finally {
      await Promise.all(pools.map((p) => p.end()))
    }
  })

  it('reports the code version and the database version', async () => {
    const client = await db.pool.connect()
    try {
      expect((await controlSchemaVersions(client, 'ctl_missing')).database).toBeUndefined()
      await applyControlSchema(db.pool, { schema: 'ctl_f' })
      const versions = await controlSchemaVersions(client, 'ctl_f')
      expect(versions.database).toBe(versions.code)
    } finally {
      client.release()
    }
  })
})
