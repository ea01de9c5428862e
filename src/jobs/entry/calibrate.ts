/**
 * Calibration: compares a sample of live legacy rows with themselves through
 * the read comparison's own projection, normalisers and hashing, and reports
 * the noise floor, the differences the comparison makes on identical data.
 */
import type { Registry } from 'prom-client'
import type pg from 'pg'
import { normaliserCandidates } from '../../core/normaliser-candidates.js'
import { differingColumns } from '../../core/row-hash.js'
import { comparableRow, judge, type SideRow } from '../../shape/compare-rows.js'
import { migrationShape, typeOf, type MigrationShape } from '../../shape/migration-shape.js'
import { COMPARE_COLUMN, SIDE_COLUMN } from '../../shape/compared-sides.js'
import { instrumentsFor, type Instruments } from '../../metrics/instruments.js'
import { loadMigration } from '../../store/definitions/definitions.js'
import { isConnectionLost, serverMessage } from '../../db/pg-errors.js'
import type { PoolLike } from '../../db/queryable.js'
import { calibrationSql, normaliserFixSql, rowEstimateSql, SAMPLE_COLUMN } from '../statements/calibrate-sql.js'
import { controlSchema } from '../../db/control-schema.js'
import { applySessionSettings } from '../../db/session-settings.js'
import { withClient } from '../../db/with-client.js'
import { inTransaction } from '../../db/with-transaction.js'
import { DEFAULT_CALIBRATION_SAMPLE } from '../job-defaults.js'

export interface CalibrateOptions {
  readonly schema: string
  readonly migration: string
  readonly actor: string
  readonly reason?: string
  /** Legacy rows to sample (at most). */
  readonly sample?: number
  readonly registry?: Registry
}

/** One shadow column the comparison found different on identical data. */
export interface NoisyColumn {
  readonly column: string
  /** Sampled rows on which it differed. */
  readonly differences: number
  /** The first differing pair of comparable values. */
  readonly example: { readonly legacy: unknown; readonly shadow: unknown }
  /** The least lossy normaliser that makes every differing pair of the column equal, or null when none does. */
  readonly normaliser: string | null
}

export interface CalibrationResult {
  readonly migration: string
  readonly sampled: number
  readonly noisy: boolean
  /** Sampled rows judged different. */
  readonly differences: number
  /** Comparisons that threw (counted as result="error"). */
  readonly errors: number
  readonly columns: readonly NoisyColumn[]
  /** The server's message when the sample could not be compared at all. */
  readonly error?: string
}

interface Pairs {
  legacy: unknown[]
  shadow: unknown[]
  count: number
}

/** Sample size as a percentage of the legacy table for TABLESAMPLE SYSTEM: twice the rows wanted, so LIMIT has a choice. */
function samplePercent(estimate: number, sample: number): number {
  if (!(estimate > 0)) return 100
  return Math.min(100, Math.max(0.0001, (200 * sample) / estimate))
}

/**
 * Runs the calibration statement; block sampling of a small or freshly grown
 * table can return too few rows, so a short sample is taken again at four
 * times the percentage (up to the whole table). Each attempt is one statement;
 * the one kept was read in one snapshot.
 */
async function sampleRows(
  client: pg.ClientBase,
  shape: MigrationShape,
  percent: number,
  sample: number,
): Promise<ReturnType<typeof sidesOf>> {
  for (let p = percent; ; p = Math.min(100, p * 4)) {
    const statement = calibrationSql(shape, p, sample)
    // Under the migration's session settings, for this statement's transaction only.
    const rows = await inTransaction(client, async () => {
      await applySessionSettings(client, shape.definition.session)
      return (await client.query<Record<string, unknown>>(statement.text, statement.values)).rows
    })
    const bySample = sidesOf(shape, rows)
    if (bySample.size >= sample || p >= 100) return bySample
  }
}

function sidesOf(
  shape: MigrationShape,
  rows: readonly Record<string, unknown>[],
): Map<string, Partial<Record<'legacy' | 'shadow', SideRow>>> {
  const bySample = new Map<string, Partial<Record<'legacy' | 'shadow', SideRow>>>()
  for (const raw of rows) {
    const { [SIDE_COLUMN]: side, [COMPARE_COLUMN]: comparable, [SAMPLE_COLUMN]: n, ...row } = raw
    const entry = bySample.get(String(n)) ?? {}
    entry[side === 'shadow' ? 'shadow' : 'legacy'] = { row, comparable: comparableRow(shape, comparable) }
    bySample.set(String(n), entry)
  }
  return bySample
}

async function fixFor(
  client: pg.ClientBase,
  shape: MigrationShape,
  column: string,
  pairs: Pairs,
): Promise<string | null> {
  const type = typeOf(shape.shadowColumns, column)
  const specs = normaliserCandidates(type)
  if (specs.length === 0 || ![...pairs.legacy, ...pairs.shadow].every((v) => v === null || typeof v === 'string'))
    return null
  const statement = normaliserFixSql(type, specs, pairs.legacy as string[], pairs.shadow as string[])
  try {
    const { rows } = await client.query<Record<string, boolean>>(statement.text, statement.values)
    const index = specs.findIndex((_, i) => rows[0]?.[String(i)] === true)
    return index < 0 ? null : (specs[index] as string)
  } catch (error) {
    if (isConnectionLost(error)) throw error
    return null
  }
}

function judgeSample(
  name: string,
  instruments: Instruments,
  bySample: ReturnType<typeof sidesOf>,
): { differences: number; errors: number; noisy: Map<string, Pairs> } {
  const noisy = new Map<string, Pairs>()
  let differences = 0
  let errors = 0
  for (const { legacy, shadow } of bySample.values()) {
    let result: 'match' | 'mismatch' | 'error'
    try {
      result = judge(legacy, shadow).result
    } catch {
      result = 'error'
    }
    instruments.comparisons.inc({ migration: name, source: 'calibrate', result })
    if (result === 'error') errors++
    if (result !== 'mismatch') continue
    differences++
    const a = legacy?.comparable ?? {}
    const b = shadow?.comparable ?? {}
    for (const column of differingColumns(a, b)) {
      const pairs = noisy.get(column) ?? { legacy: [], shadow: [], count: 0 }
      pairs.legacy.push(a[column] ?? null)
      pairs.shadow.push(b[column] ?? null)
      pairs.count++
      noisy.set(column, pairs)
    }
  }
  return { differences, errors, noisy }
}

/**
 * Samples live legacy rows and compares each with itself: the legacy side as a
 * compared read projects it, the other side carried through `forward` into the
 * shadow's column types and projected as the shadow side is, both in one
 * statement (one snapshot), each pair judged by the DAL's `judge`. Records a
 * `calibrate` event (its `noisy` is what the ramp gate reads) and counts every
 * comparison in `cutover_comparisons_total{source="calibrate"}`. Reads only.
 */
export async function runCalibration(pool: PoolLike, options: CalibrateOptions): Promise<CalibrationResult> {
  const name = options.migration
  const instruments = instrumentsFor(options.registry)
  const sample = options.sample ?? DEFAULT_CALIBRATION_SAMPLE
  return withClient(pool, async (client) => {
    const shape = migrationShape(await loadMigration(client, options.schema, name))
    const estimate = rowEstimateSql(shape)
    const {
      rows: [found],
    } = await client.query<{ estimate: number }>(estimate.text, estimate.values)
    let result: CalibrationResult
    try {
      const bySample = await sampleRows(client, shape, samplePercent(found?.estimate ?? -1, sample), sample)
      const judged = judgeSample(name, instruments, bySample)
      const columns: NoisyColumn[] = []
      for (const [column, pairs] of judged.noisy) {
        columns.push({
          column,
          differences: pairs.count,
          example: { legacy: pairs.legacy[0], shadow: pairs.shadow[0] },
          normaliser: await fixFor(client, shape, column, pairs),
        })
      }
      result = {
        migration: name,
        sampled: bySample.size,
        noisy: judged.differences + judged.errors > 0,
        differences: judged.differences,
        errors: judged.errors,
        columns,
      }
    } catch (error) {
      if (isConnectionLost(error)) throw error
      // The sample could not be compared at all (a mapping that fails on a live row): one comparison, an error, and no evidence of a zero floor.
      instruments.comparisons.inc({ migration: name, source: 'calibrate', result: 'error' })
      result = {
        migration: name,
        sampled: 0,
        noisy: true,
        differences: 0,
        errors: 1,
        columns: [],
        error: serverMessage(error),
      }
    }
    const details = {
      noisy: result.noisy,
      sampled: result.sampled,
      differences: result.differences,
      errors: result.errors,
      columns: result.columns,
      ...(result.error ? { error: result.error } : {}),
    }
    await controlSchema(options.schema).insertEvent(client, {
      migration: name,
      actor: options.actor,
      kind: 'calibrate',
      reason: options.reason,
      details,
    })
    return result
  })
}
