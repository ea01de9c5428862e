/** Opens a migration's backfill or verify job: its shape from the catalog, then its job row (started or resumed). */
import { migrationShape, type MigrationShape } from '../../shape/migration-shape.js'
import { TransitionInvalid } from '../../core/errors.js'
import { loadMigration } from '../../store/definitions/definitions.js'
import { readState } from '../../store/state/state-row.js'
import type { PoolLike } from '../../db/queryable.js'
import type { JobKind } from './job-failed.js'
import { startOrResumeJob, type JobRecord } from './job-record.js'
import { jobSql, type JobSql } from '../../store/jobs/job-sql.js'
import { keyRangeSql, type KeyRangeSql, type KeySpan } from '../chunks/key-range-sql.js'
import { withClient } from '../../db/with-client.js'

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
    if (input.kind === 'backfill') {
      // Once the shadow is authoritative, writes lock the shadow row before the legacy one: a backfill (legacy, then
      // shadow) would deadlock with them, and copying legacy over the authoritative side is wrong in any case.
      const { phase } = await readState(client, input.schema, input.migration)
      if (phase === 'shadow_primary' || phase === 'complete') {
        throw new TransitionInvalid(
          input.migration,
          `backfill copies legacy into the shadow, but the shadow is authoritative in ${phase}; ` +
            `nothing to backfill there (cutover repair ${input.migration} re-copies divergent keys from the authoritative side)`,
        )
      }
    }
    const sql = jobSql(input.schema)
    const keys = keyRangeSql(shape, input.span)
    const { job, isResumed } = await startOrResumeJob(client, sql, { ...input, keys })
    return { shape, sql, keys, job, isResumed }
  })
}
