/**
 * Applies the numbered control-schema files, each in its own transaction,
 * recorded with a checksum; re-running is a no-op, an edited file is refused,
 * and a transaction-scoped advisory lock keeps two concurrent runs from applying a file twice.
 */
import type pg from 'pg'
import { ControlSchemaChanged } from '../../core/errors.js'
import type { PoolLike } from '../../db/queryable.js'
import { inTransaction } from '../../db/with-transaction.js'
import { readSqlFiles } from './sql-files.js'
import { controlSchema } from '../../db/control-schema.js'

export const DEFAULT_SCHEMA = 'cutover'
export const SCHEMA_PLACEHOLDER = /:CUTOVER_SCHEMA\b/g

export interface ApplyResult {
  readonly applied: readonly string[]
  readonly alreadyApplied: readonly string[]
}

/** Something that hands out a dedicated client: a `pg.Pool`. */
export type ClientSource = PoolLike

export async function appliedVersions(
  client: pg.ClientBase,
  schema: string,
): Promise<Map<number, { file: string; checksum: string }>> {
  const { rows } = await client.query<{ version: number; file: string; checksum: string }>(
    `SELECT version, file, checksum FROM ${controlSchema(schema).quoted}.schema_versions`,
  )
  return new Map(rows.map((r) => [r.version, { file: r.file, checksum: r.checksum }]))
}

/** Applies every file not yet applied, in order. */
export async function applyControlSchema(
  pool: ClientSource,
  options: { schema?: string; sqlDir?: string } = {},
): Promise<ApplyResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA
  const q = controlSchema(schema).quoted
  const files = await readSqlFiles(options.sqlDir)
  const client = await pool.connect()
  const applied: string[] = []
  const alreadyApplied: string[] = []
  try {
    await inLockedTransaction(client, schema, async () => {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`)
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${q}.schema_versions (
           version integer PRIMARY KEY, file text NOT NULL, checksum text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now())`,
      )
    })
    for (const file of files) {
      await inLockedTransaction(client, schema, async () => {
        // Read under the lock: a concurrent `init` may have applied this file a moment ago.
        const previous = (await appliedVersions(client, schema)).get(file.version)
        if (previous) {
          if (previous.checksum !== file.checksum)
            throw new ControlSchemaChanged(file.file, previous.checksum, file.checksum)
          alreadyApplied.push(file.file)
          return
        }
        await client.query(file.text.replace(SCHEMA_PLACEHOLDER, q))
        await client.query(`INSERT INTO ${q}.schema_versions (version, file, checksum) VALUES ($1, $2, $3)`, [
          file.version,
          file.file,
          file.checksum,
        ])
        applied.push(file.file)
      })
    }
  } finally {
    client.release()
  }
  return { applied, alreadyApplied }
}

/**
 * Runs `fn` in one transaction holding the control schema's advisory lock:
 * a concurrent `init` waits for it. A transaction-scoped lock (never a
 * session one) goes with the transaction, so none is ever left on a server
 * connection a pooler hands to someone else.
 */
async function inLockedTransaction(client: pg.ClientBase, schema: string, fn: () => Promise<void>): Promise<void> {
  await inTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`cutover:control-schema:${schema}`])
    await fn()
  })
}

/** The highest file version shipped with this code, and the one the database has. */
export async function controlSchemaVersions(
  client: pg.ClientBase,
  schema: string,
  sqlDir?: string,
): Promise<{ code: number; database: number | undefined }> {
  const files = await readSqlFiles(sqlDir)
  const code = Math.max(0, ...files.map((f) => f.version))
  const { rows } = await client.query<{ v: number | null }>(
    `SELECT CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE -1 END AS v`,
    [`${controlSchema(schema).quoted}.schema_versions`],
  )
  if (rows[0]?.v === null || rows[0]?.v === undefined) return { code, database: undefined }
  const applied = await appliedVersions(client, schema)
  return { code, database: Math.max(0, ...applied.keys()) }
}
