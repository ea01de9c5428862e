/**
 * Precheck: evaluates the whole mapping over every legacy row before any
 * application write depends on it, and writes nothing to either table. Its
 * recorded result is the evidence the gate of dual_write reads.
 */
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { CheckFailed } from '../../core/errors.js'
import { FailureClasses, type FailureClass } from '../../core/precheck-classes.js'
import { controlSchema } from '../../db/control-schema.js'
import { withLockRetry } from '../../db/with-lock-retry.js'
import { serverMessage } from '../../db/pg-errors.js'
import type { PoolLike } from '../../db/queryable.js'
import { withClient } from '../../db/with-client.js'
import type { SessionSettings } from '../../core/session-settings.js'
import { applySessionSettings } from '../../db/session-settings.js'
import { migrationShape, type MigrationShape } from '../../shape/migration-shape.js'
import { sessionDependentCasts, type SessionDependentCast } from '../../store/catalog/session-settings-sql.js'
import { loadMigration } from '../../store/definitions/definitions.js'
import { readEnclosingTarget } from '../../store/groups/group-target.js'
import { readShadowForeignKeys } from '../../store/groups/shadow-references-sql.js'
import { nextChunkRows } from '../chunks/chunk-sizing.js'
import {
  DEFAULT_CHUNK_ROWS,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_MAX_LOCK_RETRIES,
  DEFAULT_PRECHECK_EXAMPLES,
  DEFAULT_TARGET_CHUNK_MS,
} from '../job-defaults.js'
import { systemClock } from '../harness/job-clock.js'
import { defaultJobLogger, type JobLogger } from '../harness/job-logger.js'
import { describeRange, type KeyRange, type KeyValues } from '../chunks/key-range.js'
import { keyFromRow, keyRangeSql } from '../chunks/key-range-sql.js'
import { parentInserts } from '../statements/precheck-parents-sql.js'
import { classQuery, precheckSql } from '../statements/precheck-sql.js'

export interface PrecheckOptions {
  readonly schema: string
  readonly migration: string
  /** Who runs it, recorded in its event. */
  readonly actor: string
  readonly reason?: string | undefined
  /** Legacy rows in the first chunk (default 1000); the size then adapts toward 200 ms per chunk. */
  readonly chunkRows?: number
  /** Example keys per class (default 5). */
  readonly examples?: number
  /** `lock_timeout` of each chunk's transaction (default 1000 ms); a lock wait is retried with backoff. */
  readonly lockTimeoutMs?: number
  readonly logger?: JobLogger
  /** After each chunk: legacy rows checked so far, and rows found failing. */
  readonly onProgress?: (rowsChecked: number, failingRows: number) => void
}

export interface PrecheckResult {
  readonly migration: string
  /** The definition version checked; the gate of dual_write accepts only a clean precheck of the current one. */
  readonly definitionVersion: number
  /** Legacy rows checked. */
  readonly rows: number
  /**
   * Rows the mapping cannot carry or does not bring back unchanged through `backward(forward(row))` (counted once per
   * class they fall in; a row whose round trip changes several columns counts once).
   */
  readonly failingRows: number
  readonly clean: boolean
  /** The classes of failure, the largest first. */
  readonly classes: readonly FailureClass[]
  /**
   * Whether two legacy rows mapping onto one unique key of the shadow was checked: only once every row maps
   * (the check evaluates the mapped key of every row, which a failing row would stop).
   */
  readonly collisionsChecked: boolean
  /** Mapping expressions whose result depends on the session settings: evaluated under the definition's `session`. */
  readonly sessionDependent: readonly SessionDependentCast[]
  /** The session settings the mapping was evaluated under (none for a definition registered before they were recorded). */
  readonly session: SessionSettings | undefined
  readonly seconds: number
}

interface FailureRow {
  rows: number
  key: string[] | null
  step: string | null
  sqlstate: string | null
  message: string | null
  pattern: string | null
  column_name: string | null
  constraint_name: string | null
  legacy_value: string | null
  round_trip_value: string | null
}

/** Runs one chunk in a transaction of its own under a lock timeout, retrying lock waits with backoff. */
async function checkChunk(
  client: pg.ClientBase,
  options: PrecheckOptions,
  logger: JobLogger,
  operationId: string,
  session: SessionSettings | undefined,
  text: string,
  values: readonly string[],
  range: KeyRange,
): Promise<FailureRow[]> {
  // One snapshot for the whole chunk: the round trip compares each legacy row with what its forward copy reads
  // back, and a writer updating that row between the two statements would otherwise look like a lossy mapping.
  return withLockRetry(
    client,
    {
      clock: systemClock,
      maxRetries: DEFAULT_MAX_LOCK_RETRIES,
      begin: 'BEGIN ISOLATION LEVEL REPEATABLE READ',
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      onLockWait: ({ attempt, error, isQuiet }) => {
        logger[isQuiet ? 'debug' : 'warn'](
          { migration: options.migration, operation: 'precheck', operationId, range: describeRange(range), attempt },
          `precheck of ${options.migration} waits on a lock: ${serverMessage(error)}`,
        )
      },
      giveUp: (error, attempt) =>
        new CheckFailed(
          `precheck of ${options.migration} met a lock on chunk ${describeRange(range)} ${attempt} times: ${serverMessage(error)}; find the long transaction with: cutover doctor ${options.migration}, then run: cutover precheck ${options.migration}`,
          { cause: error },
        ),
    },
    async () => {
      await applySessionSettings(client, session)
      return (await client.query<FailureRow>(text, [...values])).rows
    },
  )
}

/**
 * For a member of a group: what inserts, before a set of its rows, the rows of the other members they reference
 * (precheck-parents-sql.ts), so a foreign key between the shadows judges the rows as the parents-first backfill
 * leaves them; '' otherwise.
 */
async function parentsOf(
  client: pg.ClientBase,
  schema: string,
  migration: string,
): Promise<(picked: string) => string> {
  const target = await readEnclosingTarget(client, schema, migration)
  if (target.group === undefined) return () => ''
  const keys = await readShadowForeignKeys(client, schema, target.members)
  const shapes = new Map<string, MigrationShape>()
  for (const name of new Set(keys.flatMap((k) => [k.child, k.parent]))) {
    shapes.set(name, migrationShape(await loadMigration(client, schema, name)))
  }
  return (picked) => parentInserts(migration, picked, keys, shapes)
}

/**
 * Tries every legacy row, chunk by chunk in key order, through `forward` into
 * the shadow's real column types, NOT NULL, CHECK, unique and foreign keys
 * (cutover.precheck_mapping_rows(), which keeps nothing), and back through `backward`
 * into the legacy column types and constraints, and compares each legacy row
 * with its round trip, per legacy column; then, when every row maps,
 * looks for legacy rows that map onto the same unique key of the shadow.
 * For a member of a group, each set of rows is tried after the rows of the other members it references.
 * Records a `precheck` event with the result (what the dual_write gate reads).
 */
export async function runPrecheck(pool: PoolLike, options: PrecheckOptions): Promise<PrecheckResult> {
  const logger = options.logger ?? defaultJobLogger()
  const started = Date.now()
  const operationId = randomUUID()
  const examples = options.examples ?? DEFAULT_PRECHECK_EXAMPLES
  return withClient(pool, async (client) => {
    const checked = await loadMigration(client, options.schema, options.migration)
    const shape = migrationShape(checked)
    const sql = precheckSql(
      shape,
      options.schema,
      checked.shadow.uniqueKeys,
      await parentsOf(client, options.schema, options.migration),
    )
    const keys = keyRangeSql(shape, 'legacy')
    const classes = new FailureClasses(examples)
    let rows = 0
    let failingRows = 0
    // Rows that fail forward or backward: while any does, the mapped keys cannot all be evaluated (no collision check).
    let unmappedRows = 0
    const {
      rows: [edges],
    } = await client.query<{ low: unknown; high: unknown }>(keys.bounds.text, [...keys.bounds.values])
    const low = keyFromRow(edges?.low)
    const high = keyFromRow(edges?.high)
    let chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS
    let lower: KeyValues | null = low
    let isLowerInclusive = true
    while (lower !== null && high !== null) {
      const probe: KeyRange = { lower, isLowerInclusive, upper: high }
      const bound = keyFromRow(
        (
          await client.query<{ key: unknown }>(keys.nextBound(probe, chunkRows).text, [
            ...keys.nextBound(probe, chunkRows).values,
          ])
        ).rows[0]?.key,
      )
      const range: KeyRange = { lower, isLowerInclusive, upper: bound ?? high }
      const chunk = sql.chunk(range)
      const chunkStarted = Date.now()
      const found = await checkChunk(
        client,
        options,
        logger,
        operationId,
        checked.definition.session,
        chunk.text,
        chunk.values as string[],
        range,
      )
      const scanned = found[0]?.rows ?? 0
      rows += scanned
      const failedKeys = new Set<string>()
      for (const f of found) {
        if (f.key === null) continue
        const kind = f.step === 'backward' || f.step === 'round_trip' ? f.step : 'forward'
        // A row whose round trip changes several columns is one failing row, in one class per column.
        const id = JSON.stringify(f.key)
        if (!failedKeys.has(id)) failingRows++
        failedKeys.add(id)
        const isChanged = kind === 'round_trip' && f.sqlstate === ''
        if (!isChanged) unmappedRows++
        classes.add(
          {
            key: f.key,
            kind,
            sqlstate: f.sqlstate ?? '',
            message: f.message ?? '',
            pattern: f.pattern ?? '',
            column: f.column_name,
            constraint: f.constraint_name,
            ...(isChanged ? { values: { legacy: f.legacy_value, roundTrip: f.round_trip_value } } : {}),
          },
          (c) => classQuery(sql.listing, c),
        )
      }
      options.onProgress?.(rows, failingRows)
      chunkRows = nextChunkRows(chunkRows, scanned, Date.now() - chunkStarted, DEFAULT_TARGET_CHUNK_MS)
      if (bound === null) break
      lower = bound
      isLowerInclusive = false
    }
    const collisionsChecked = unmappedRows === 0
    if (collisionsChecked) {
      for (const { columns, statement } of sql.collisions(examples)) {
        const { rows: shared } = await client.query<{ value: string; count: number; keys: string[][] }>(
          statement.text,
          [...statement.values],
        )
        for (const s of shared) {
          failingRows += s.count
          for (const [i, key] of (s.keys ?? []).entries()) {
            // The class counts every row sharing a value (the group's first key carries the group's count), and lists examples.
            classes.add(
              {
                key,
                kind: 'collision',
                sqlstate: '23505',
                column: columns.join(', '),
                constraint: null,
                pattern: `several legacy rows map to one value of the shadow's unique key (${columns.join(', ')})`,
                message: `value ${s.value} comes from ${s.count} legacy rows`,
              },
              () => statement.text.replace('$1', String(examples)),
              i === 0 ? s.count : 0,
            )
          }
        }
      }
    }
    const list = classes.list()
    const sessionDependent = await sessionDependentCasts(client, shape)
    const result: PrecheckResult = {
      migration: options.migration,
      definitionVersion: checked.definitionVersion,
      rows,
      failingRows,
      clean: failingRows === 0,
      classes: list,
      collisionsChecked,
      sessionDependent,
      session: checked.definition.session,
      seconds: (Date.now() - started) / 1000,
    }
    await controlSchema(options.schema).insertEvent(client, {
      migration: options.migration,
      actor: options.actor,
      kind: 'precheck',
      reason: options.reason,
      details: {
        clean: result.clean,
        definitionVersion: result.definitionVersion,
        rows,
        failingRows,
        collisionsChecked,
        session: checked.definition.session,
        sessionDependent,
        classes: list.map((c) => ({
          kind: c.kind,
          sqlstate: c.sqlstate,
          column: c.column,
          constraint: c.constraint,
          pattern: c.pattern,
          message: c.message,
          count: c.count,
          examples: c.examples,
          exampleValues: c.exampleValues,
        })),
      },
    })
    logger.info(
      { migration: options.migration, operation: 'precheck', operationId, rows, failingRows, classes: list.length },
      `precheck of ${options.migration}: ${rows} rows, ${result.clean ? 'clean' : `${failingRows} cannot be mapped`}`,
    )
    return result
  })
}
