/**
 * Builds each DAL write as one SQL statement: the write to the authoritative
 * side in a data-modifying CTE `w`, and, when the phase writes both, an upsert
 * (or delete) of the full resulting row on the other side, derived from `w`
 * through the mapping. One statement means no partial write can exist.
 * Values are always parameters; identifiers come quoted from MigrationShape.
 */
import type { Side } from '../core/phases.js'
import type { Statement } from '../db/statement.js'
import { list, movedRowDelete, movedRowLateral, q, typeOf, type MigrationShape } from '../shape/migration-shape.js'
import { WRITER_MARKER_FILTER } from '../db/writer-marker.js'
import { settingsCondition } from '../shape/settings-condition.js'
import { divergenceUpsertSql } from '../store/divergences/divergence-upsert-sql.js'
import { ROUND_TRIP_COLUMN, roundTripCheck, type RoundTripCheck } from './round-trip-check-sql.js'

export type WriteOp = 'insert' | 'update' | 'upsert' | 'delete'

/** Which sides a write touches: the authoritative one, and the secondary one or none. */
export interface WriteTargets {
  readonly authority: Side
  readonly secondary: Side | undefined
}

/** Rows written by a record-mode fallback are noted here, in the same statement. */
export interface DivergenceTarget {
  readonly table: string
  readonly migration: string
  readonly detail: string
}

class Params {
  readonly values: unknown[] = []
  add(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }
}

/** `"a" = $1::t AND "b" = $2::t` for the legacy key. */
function legacyKeyMatch(shape: MigrationShape, key: readonly unknown[], p: Params, alias = ''): string {
  return shape.legacyKey
    .map((k, i) => `${alias}${q(k)} = ${p.add(key[i])}::${typeOf(shape.legacyColumns, k)}`)
    .join(' AND ')
}

/** `("sa", "sb") = (SELECT <forward of key> FROM (SELECT $1::t AS "a", …) k)`: the shadow key of a legacy key. */
function shadowKeyMatch(shape: MigrationShape, key: readonly unknown[], p: Params): string {
  const keyRow = shape.legacyKey
    .map((k, i) => `${p.add(key[i])}::${typeOf(shape.legacyColumns, k)} AS ${q(k)}`)
    .join(', ')
  const exprs = shape.shadowKey.map((k) => shape.forward.find((m) => m.column === k)?.expression ?? q(k)).join(', ')
  return `(${list(shape.shadowKey)}) = (SELECT ${exprs} FROM (SELECT ${keyRow}) AS k)`
}

/**
 * Upsert of every mapped column of `target`, from the rows of CTE `source` (shaped as the other side); `moved` joins
 * each source row to the delete of its shadow row in another partition (a partitioned shadow's moved row).
 */
function copyFrom(shape: MigrationShape, target: Side, source: string, moved = ''): string {
  const mapped = target === 'shadow' ? shape.forward : shape.backward
  const table = target === 'shadow' ? shape.shadowTable : shape.legacyTable
  const key = target === 'shadow' ? shape.shadowConflictKey : shape.legacyKey
  const nonKey = mapped.filter((m) => !key.includes(m.column))
  const onConflict =
    nonKey.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${nonKey.map((m) => `${q(m.column)} = EXCLUDED.${q(m.column)}`).join(', ')}`
  return `INSERT INTO ${table} (${list(mapped.map((m) => m.column))})${shape.overriding[target]} SELECT ${mapped.map((m) => m.expression).join(', ')} FROM ${source}${moved} ON CONFLICT (${list(key)}) ${onConflict}`
}

/** The legacy-shaped result of a shadow-authoritative write: backward of `w`. */
function backwardOf(shape: MigrationShape, source: string): string {
  return `SELECT ${shape.backward.map((m) => `(${m.expression})::${typeOf(shape.legacyColumns, m.column)} AS ${q(m.column)}`).join(', ')} FROM ${source}`
}

/** A legacy-shaped input row for writes into the shadow: given values, else the shadow's key source or the legacy column's default. */
function inputRow(shape: MigrationShape, row: Readonly<Record<string, unknown>>, p: Params): string {
  return shape.legacyColumns
    .filter((c) => !c.isGenerated)
    .map((c) => {
      const value = Object.hasOwn(row, c.name)
        ? `${p.add(row[c.name])}::${c.type}`
        : `(${shape.shadowDefaults.get(c.name) ?? c.defaultSql ?? 'NULL'})::${c.type}`
      return `${value} AS ${q(c.name)}`
    })
    .join(', ')
}

/**
 * The shadow delete of a legacy-authoritative delete, through the control
 * schema's `delete_by_key` (sql/0003): it runs after `w` has finished (it reads
 * `count(*)` of it) and with a fresh snapshot, so a row a backfill committed
 * while `w` waited on its lock is deleted too, never left as a ghost. It runs
 * only when `w` deleted a row: a row `w` could not see (inserted by a
 * transaction still open when this statement began) may have committed on
 * both sides by the time the fresh snapshot is taken, and deleting its shadow
 * copy then would leave legacy without a shadow row (found by the pooler test
 * on PostgreSQL 15).
 */
function freshSnapshotShadowDelete(
  shape: MigrationShape,
  key: readonly unknown[],
  p: Params,
  controlSchema: string,
): string {
  const keyRow = shape.legacyKey
    .map((k, i) => `${p.add(key[i])}::${typeOf(shape.legacyColumns, k)} AS ${q(k)}`)
    .join(', ')
  const values = shape.shadowKey
    .map((k) => `(${shape.forward.find((m) => m.column === k)?.expression ?? q(k)})::text`)
    .join(', ')
  const fn = `${q(controlSchema)}.delete_by_key`
  return (
    `SELECT ${fn}(${p.add(shape.shadowTable)}::regclass, ${p.add(shape.shadowKey)}::text[], ${p.add(shape.shadowKey.map((k) => typeOf(shape.shadowColumns, k)))}::regtype[], ` +
    `(SELECT ARRAY[${values}] FROM (SELECT ${keyRow}) AS k)) AS deleted FROM (SELECT count(*) AS n FROM w) AS done WHERE done.n > 0`
  )
}

function secondaryWrite(
  shape: MigrationShape,
  op: WriteOp,
  targets: WriteTargets,
  key: readonly unknown[] | undefined,
  p: Params,
  moved: string,
): string | undefined {
  if (!targets.secondary) return undefined
  if (op === 'delete') {
    if (targets.secondary === 'shadow')
      return `DELETE FROM ${shape.shadowTable} WHERE ${shadowKeyMatch(shape, key ?? [], p)}`
    return `DELETE FROM ${shape.legacyTable} WHERE ${legacyKeyMatch(shape, key ?? [], p)}`
  }
  return copyFrom(shape, targets.secondary, 'w', targets.secondary === 'shadow' ? moved : '')
}

function keyOf(shape: MigrationShape, row: Readonly<Record<string, unknown>>): unknown[] {
  return shape.legacyKey.map((k) => row[k])
}

function legacyWrite(
  shape: MigrationShape,
  op: WriteOp,
  rows: readonly Readonly<Record<string, unknown>>[],
  key: readonly unknown[] | undefined,
  patch: Readonly<Record<string, unknown>> | undefined,
  p: Params,
): string {
  const table = shape.legacyTable
  if (op === 'delete') return `DELETE FROM ${table} WHERE ${legacyKeyMatch(shape, key ?? [], p)} RETURNING *`
  if (op === 'update') {
    const sets = Object.entries(patch ?? {}).map(([c, v]) => `${q(c)} = ${p.add(v)}`)
    return `UPDATE ${table} SET ${sets.join(', ')} WHERE ${legacyKeyMatch(shape, key ?? [], p)} RETURNING *`
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const values = rows.map((r) => `(${columns.map((c) => (Object.hasOwn(r, c) ? p.add(r[c]) : 'DEFAULT')).join(', ')})`)
  const insert = `INSERT INTO ${table} (${list(columns)}) VALUES ${values.join(', ')}`
  if (op === 'insert') return `${insert} RETURNING *`
  const nonKey = columns.filter((c) => !shape.legacyKey.includes(c))
  const action =
    nonKey.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${nonKey.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`
  return `${insert} ON CONFLICT (${list(shape.legacyKey)}) ${action} RETURNING *`
}

function shadowWrite(
  shape: MigrationShape,
  op: WriteOp,
  rows: readonly Readonly<Record<string, unknown>>[],
  key: readonly unknown[] | undefined,
  patch: Readonly<Record<string, unknown>> | undefined,
  p: Params,
): { ctes: string[]; write: string } {
  const table = shape.shadowTable
  const forwardCols = list(shape.forward.map((m) => m.column))
  const forwardExprs = shape.forward.map((m) => m.expression).join(', ')
  if (op === 'delete')
    return { ctes: [], write: `DELETE FROM ${table} WHERE ${shadowKeyMatch(shape, key ?? [], p)} RETURNING *` }
  if (op === 'update') {
    const current = `SELECT ${shape.backward.map((m) => `(${m.expression})::${typeOf(shape.legacyColumns, m.column)} AS ${q(m.column)}`).join(', ')} FROM ${table} WHERE ${shadowKeyMatch(shape, key ?? [], p)} FOR UPDATE`
    const patched = shape.backward
      .map((m) =>
        Object.hasOwn(patch ?? {}, m.column)
          ? `${p.add(patch?.[m.column])}::${typeOf(shape.legacyColumns, m.column)} AS ${q(m.column)}`
          : q(m.column),
      )
      .join(', ')
    const nonKey = shape.forward.filter((m) => !shape.shadowKey.includes(m.column))
    return {
      ctes: [`cur AS (${current})`, `input AS (SELECT ${patched} FROM cur)`],
      write: `UPDATE ${table} SET (${list(nonKey.map((m) => m.column))}) = (SELECT ${nonKey.map((m) => m.expression).join(', ')} FROM input) WHERE ${shadowKeyMatch(shape, key ?? [], p)} AND EXISTS (SELECT 1 FROM input) RETURNING *`,
    }
  }
  const inputs = rows.map((r) => `SELECT ${inputRow(shape, r, p)}`).join(' UNION ALL ')
  const insert = `INSERT INTO ${table} (${forwardCols})${shape.overriding.shadow} SELECT ${forwardExprs} FROM input`
  if (op === 'insert') return { ctes: [`input AS (${inputs})`], write: `${insert} RETURNING *` }
  const nonKey = shape.forward.filter((m) => !shape.shadowConflictKey.includes(m.column))
  const action =
    nonKey.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${nonKey.map((m) => `${q(m.column)} = EXCLUDED.${q(m.column)}`).join(', ')}`
  // A partitioned shadow: the row of the same logical key in another partition goes, so the upsert moves it.
  const moved = movedRowDelete(shape, 'input')
  return {
    ctes: [`input AS (${inputs})`, ...(moved ? [`m AS (${moved})`] : [])],
    write: `${insert} ON CONFLICT (${list(shape.shadowConflictKey)}) ${action} RETURNING *`,
  }
}

export interface WriteRequest {
  readonly op: WriteOp
  /** Rows for insert and upsert, legacy-shaped. */
  readonly rows?: readonly Readonly<Record<string, unknown>>[]
  /** Legacy key values, in key order, for update and delete. */
  readonly key?: readonly unknown[]
  readonly patch?: Readonly<Record<string, unknown>>
}

/**
 * One statement for a write. With `divergence`, the secondary write is left
 * out and each written key is recorded as a divergence instead (the
 * `onSecondaryError: 'record'` fallback), in the same statement.
 */
export interface WriteStatementOptions {
  /** The control schema, whose `delete_by_key` legacy-authoritative deletes use for the shadow; without it, a plain DELETE. */
  readonly controlSchema?: string
  /** Record mode's fallback: leave the secondary out and note each written key as a divergence. */
  readonly divergence?: DivergenceTarget
  /** What the statement returns of each written row: all of it (the default), its legacy key only, or nothing (one count row). */
  readonly returning?: Returning
  /** Whether a legacy-authoritative write judges its round trip (round-trip-check-sql.ts); default true. */
  readonly roundTripCheck?: boolean
}

/** What a write returns: each written row in the legacy shape, its legacy key, or nothing. */
export type Returning = 'row' | 'key' | 'none'

/**
 * The statement's final SELECT over the written rows of `w` (and the fresh-snapshot delete `s`, which must be read to run).
 * Its one-time filter sets the writer marker, once, whatever was written (db/writer-marker.ts).
 */
function resultOf(
  shape: MigrationShape,
  targets: WriteTargets,
  freshDelete: boolean,
  returning: Returning,
  roundTrip: RoundTripCheck | null,
): string {
  const from = freshDelete ? 's CROSS JOIN w' : `w${roundTrip?.from ?? ''}`
  const marked = `WHERE ${WRITER_MARKER_FILTER}${settingsCondition(shape)}`
  const verdict = roundTrip ? `, ${roundTrip.value} AS ${q(ROUND_TRIP_COLUMN)}` : ''
  if (returning === 'none') {
    const verdicts = roundTrip
      ? `, jsonb_agg(${roundTrip.value}) FILTER (WHERE ${roundTrip.value} IS NOT NULL) AS ${q(ROUND_TRIP_COLUMN)}`
      : ''
    return `SELECT count(*)::int AS ${q('__cutover_written')}${verdicts} FROM ${from} ${marked}`
  }
  if (targets.authority === 'legacy')
    return returning === 'key'
      ? `SELECT ${shape.legacyKey.map((k) => `w.${q(k)}`).join(', ')}${verdict} FROM ${from} ${marked}`
      : `SELECT w.*${verdict} FROM ${from} ${marked}`
  if (returning === 'row') return `${backwardOf(shape, 'w')} ${marked}`
  const keys = shape.legacyKey.map((k) => shape.backward.find((m) => m.column === k) ?? { column: k, expression: q(k) })
  return `SELECT ${keys.map((m) => `(${m.expression})::${typeOf(shape.legacyColumns, m.column)} AS ${q(m.column)}`).join(', ')} FROM w ${marked}`
}

export function writeStatement(
  shape: MigrationShape,
  targets: WriteTargets,
  request: WriteRequest,
  options: WriteStatementOptions = {},
): Statement {
  const divergence = options.divergence
  const p = new Params()
  const rows = request.rows ?? []
  const ctes: string[] = []
  if (targets.authority === 'legacy') {
    ctes.push(`w AS (${legacyWrite(shape, request.op, rows, request.key, request.patch, p)})`)
  } else {
    const built = shadowWrite(shape, request.op, rows, request.key, request.patch, p)
    ctes.push(...built.ctes, `w AS (${built.write})`)
  }
  const freshDelete =
    !divergence && request.op === 'delete' && targets.secondary === 'shadow' && options.controlSchema !== undefined
  const secondary = divergence
    ? undefined
    : freshDelete
      ? freshSnapshotShadowDelete(shape, request.key ?? [], p, options.controlSchema as string)
      : secondaryWrite(
          shape,
          request.op,
          targets,
          request.key ?? (rows[0] ? keyOf(shape, rows[0]) : undefined),
          p,
          options.controlSchema === undefined ? '' : movedRowLateral(shape, options.controlSchema),
        )
  if (secondary && targets.secondary === 'shadow' && request.op !== 'delete' && options.controlSchema === undefined) {
    // A partitioned shadow without the control schema's function: the delete in the statement's own snapshot.
    const moved = movedRowDelete(shape, 'w')
    if (moved) ctes.push(`m AS (${moved})`)
  }
  // A legacy-authoritative write that upserts the shadow row judges, in the same statement, what reading it back gives.
  const roundTrip =
    !divergence &&
    options.roundTripCheck !== false &&
    targets.authority === 'legacy' &&
    targets.secondary === 'shadow' &&
    request.op !== 'delete'
      ? roundTripCheck(shape)
      : null
  if (secondary) ctes.push(`s AS (${secondary})`)
  if (divergence) {
    const keyValue = (k: string): string => {
      if (targets.authority === 'legacy') return `w.${q(k)}::text`
      const mapped = shape.backward.find((m) => m.column === k)
      return `((${mapped?.expression ?? q(k)})::${typeOf(shape.legacyColumns, k)})::text`
    }
    // Key values as text: a bigint or numeric key must not pass through a JSON number.
    const keyJson = `jsonb_build_object(${shape.legacyKey.map((k) => `${p.add(k)}::text, ${keyValue(k)}`).join(', ')})`
    ctes.push(
      `d AS (${divergenceUpsertSql({
        table: divergence.table,
        columns: ['migration', 'key', 'source', 'kind', 'detail'],
        rows: `SELECT ${p.add(divergence.migration)}, ${keyJson}, 'write', 'write_rejected', ${p.add(divergence.detail)} FROM w`,
        refreshed: ['detail'],
      })})`,
    )
  }
  // With the fresh-snapshot delete, `s` must be read for its function to run at all.
  const result = resultOf(shape, targets, freshDelete, options.returning ?? 'row', roundTrip)
  return { text: `WITH ${ctes.join(',\n')}\n${result}`, values: p.values }
}
