/** Repair: makes each open divergence's key equal on both sides again, copying from the source side or deleting what it lacks. */
import type { Registry } from 'prom-client'
import type { Side } from '../../core/phases.js'
import { displayName } from '../../core/identifiers.js'
import { migrationShape } from '../../shape/migration-shape.js'
import { instrumentsFor } from '../../metrics/instruments.js'
import { loadMigration } from '../../store/definitions/definitions.js'
import { withLockRetry } from '../../db/with-lock-retry.js'
import { isForeignKeyViolation, serverMessage } from '../../db/pg-errors.js'
import type { PoolLike } from '../../db/queryable.js'
import { applySessionSettings } from '../../db/session-settings.js'
import { systemClock, type JobClock } from '../harness/job-clock.js'
import { defaultJobLogger, type JobLogger } from '../harness/job-logger.js'
import { controlSchema } from '../../db/control-schema.js'
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_MAX_LOCK_RETRIES } from '../job-defaults.js'
import { repairSql } from '../statements/repair-sql.js'
import { withClient } from '../../db/with-client.js'

export interface RepairOptions {
  readonly schema: string
  readonly migration: string
  /** The side to copy from (default: the authoritative side, from the control schema's state). */
  readonly from?: Side
  /** List what would be done, writing nothing. */
  readonly dryRun?: boolean
  readonly actor: string
  readonly reason?: string
  /** `lock_timeout` of each key's statement (default 1000 ms); a timeout, or a source row locked by another transaction (NOWAIT), is retried with backoff. */
  readonly lockTimeoutMs?: number
  readonly maxLockRetries?: number
  /**
   * Leave open (and count in `deferred`) a key whose write breaks a foreign
   * key, instead of failing: a group's repair runs its members in turn, and a
   * parent's delete must wait for its children's (group-jobs.ts, runRepairs).
   */
  readonly deferForeignKeyViolations?: boolean
  readonly registry?: Registry
  readonly logger?: JobLogger
  readonly clock?: JobClock
}

export interface RepairAction {
  /** Legacy key column → value, as the pg driver reads the column. */
  readonly key: Readonly<Record<string, unknown>>
  /** `copy`: the source row was upserted into the other side; `delete`: the source has no such key, so the other side's row was deleted. */
  readonly action: 'copy' | 'delete'
  /** What the divergence was recorded as. */
  readonly kind?: string
}

export interface RepairResult {
  readonly migration: string
  /** Keys repaired (or, in a dry run, that would be). */
  readonly rows: number
  readonly seconds: number
  readonly from: Side
  readonly dryRun: boolean
  readonly actions: readonly RepairAction[]
  /** Keys left open because a foreign key held them back (only with `deferForeignKeyViolations`). */
  readonly deferred: number
}

function keyOf(row: Record<string, unknown>, legacyKey: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(legacyKey.map((column, i) => [column, row[`__k${i}`]]))
}

/**
 * For each open divergence, in one statement and so one transaction: when the
 * key exists on the source side, upsert its full mapped row into the other
 * side; when it does not, delete the key there; and mark the divergence
 * repaired. A dry run lists the same actions and writes nothing.
 */
export async function runRepair(pool: PoolLike, options: RepairOptions): Promise<RepairResult> {
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? defaultJobLogger()
  const started = clock.now()
  const instruments = instrumentsFor(options.registry)
  return withClient(pool, async (client) => {
    const shape = migrationShape(await loadMigration(client, options.schema, options.migration))
    let from = options.from
    if (from === undefined) {
      const statement = repairSql(shape, options.schema, 'legacy').authority(options.migration)
      const { rows } = await client.query<{ authority: Side }>(statement.text, statement.values)
      from = rows[0]?.authority === 'shadow' ? 'shadow' : 'legacy'
    }
    const sql = repairSql(shape, options.schema, from)
    const legacyName = displayName(shape.definition.legacy.table)
    const shadowName = displayName(shape.definition.shadow.table)
    const maxRetries = options.maxLockRetries ?? DEFAULT_MAX_LOCK_RETRIES
    const plan = sql.plan(options.migration)
    const { rows: open } = await client.query<Record<string, unknown> & { id: string; kind: string; present: boolean }>(
      plan.text,
      plan.values,
    )
    const actions: RepairAction[] = []
    let deferred = 0
    if (options.dryRun) {
      for (const d of open)
        actions.push({ key: keyOf(d, shape.legacyKey), action: d.present ? 'copy' : 'delete', kind: d.kind })
    } else {
      for (const d of open) {
        const statement = sql.repairOne(d.id, options.actor)
        try {
          const rows = await withLockRetry(
            client,
            {
              clock,
              maxRetries,
              lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
              onLockWait: ({ attempt, delayMs, error, isQuiet }) => {
                instruments.lockRetries.inc({ migration: options.migration, task: 'repair' })
                const key = JSON.stringify(keyOf(d, shape.legacyKey))
                const log = isQuiet ? logger.debug : logger.warn
                log.call(
                  logger,
                  {
                    migration: options.migration,
                    divergence: d.id,
                    key,
                    attempt,
                    delayMs,
                    server: serverMessage(error),
                  },
                  `repair of ${options.migration} waits on a row lock on ${from === 'legacy' ? legacyName : shadowName} for key ${key} (divergence ${d.id}), held by another transaction: ` +
                    `${serverMessage(error)}; retry ${attempt} of ${maxRetries} in ${delayMs} ms`,
                )
              },
            },
            async () => {
              await applySessionSettings(client, shape.definition.session)
              return (
                await client.query<Record<string, unknown> & { present: boolean }>(statement.text, statement.values)
              ).rows
            },
          )
          // No row: another repair closed this divergence first.
          if (rows[0])
            actions.push({
              key: keyOf(rows[0], shape.legacyKey),
              action: rows[0].present ? 'copy' : 'delete',
              kind: d.kind,
            })
        } catch (error) {
          if (!(options.deferForeignKeyViolations && isForeignKeyViolation(error))) throw error
          deferred++
          logger.info(
            {
              migration: options.migration,
              divergence: d.id,
              key: JSON.stringify(keyOf(d, shape.legacyKey)),
              server: serverMessage(error),
            },
            `repair of ${options.migration} leaves divergence ${d.id} for the group's second pass: ${serverMessage(error)}`,
          )
        }
      }
    }
    const seconds = (clock.now() - started) / 1000
    if (!options.dryRun) {
      const details = {
        rows: actions.length,
        seconds,
        from,
        copied: actions.filter((a) => a.action === 'copy').length,
        deleted: actions.filter((a) => a.action === 'delete').length,
      }
      await controlSchema(options.schema).insertEvent(client, {
        migration: options.migration,
        actor: options.actor,
        kind: 'repair',
        reason: options.reason,
        details,
      })
    }
    logger.info(
      { migration: options.migration, from, dryRun: options.dryRun ?? false, rows: actions.length },
      `repair of ${options.migration} from ${from}: ${options.dryRun ? 'would repair' : 'repaired'} ${actions.length} key(s)`,
    )
    return {
      migration: options.migration,
      rows: actions.length,
      seconds,
      from,
      dryRun: options.dryRun ?? false,
      actions,
      deferred,
    }
  })
}
