/** Opens a migration's backfill or verify job: its shape from the catalog, then its job row (started or resumed). */
import { migrationShape, type MigrationShape } from '../dal/migration-shape.js'
import { loadMigration } from '../store/definitions.js'
import type { PoolLike } from '../store/transaction.js'
import type { JobKind } from './job-failed.js'
import { startOrResumeJob, type JobRecord } from './job-record.js'
import { jobSql, type JobSql } from './job-sql.js'
import { keyRangeSql, type KeyRangeSql, type KeySpan } from './key-range-sql.js'
import { withClient } from './with-client.js'

export interface OpenedJob {
  readonly shape: MigrationShape
  readonly sql: JobSql
  readonly keys: KeyRangeSql
  readonly job: JobRecord
  readonly isResumed: boolean
}

export interface OpenJobInput {
  readonly schema: string
  readonly migration: string
  readonly kind: JobKind
  readonly span: KeySpan
  readonly actor: string
  readonly chunkRows: number | undefined
}

export async function openJob(pool: PoolLike, input: OpenJobInput): Promise<OpenedJob> {
  return withClient(pool, async (client) => {
    const shape = migrationShape(await loadMigration(client, input.schema, input.migration))
    const sql = jobSql(input.schema)
    const keys = keyRangeSql(shape, input.span)
    const { job, isResumed } = await startOrResumeJob(client, sql, { ...input, keys })
    return { shape, sql, keys, job, isResumed }
  })
}
