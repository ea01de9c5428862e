/** The SQL of repair: its plan over the open divergences, and its one statement per key. */
import type { Statement } from '../../db/statement.js'
import { list, movedRowDelete, q, type MigrationShape } from '../../shape/migration-shape.js'
import type { Side } from '../../core/phases.js'
import { keyAlias, keyTypes, legacySide, shadowSide, type KeySide } from '../chunks/key-range-sql.js'
import { controlSchema } from '../../db/control-schema.js'
import { WRITER_MARKER_FILTER } from '../../db/writer-marker.js'

export interface RepairSql {
  /** One row, `authority`: the side the state says is authoritative ($1 migration). */
  authority(migration: string): Statement
  /** Open divergences in id order: `id`, `kind`, the key as `__k0`, `__k1`, … and `present` (on the source side). */
  plan(migration: string): Statement
  /** Repairs one divergence. One row (`__k…`, `present`, `copied`, `deleted`), or none when it was already repaired. */
  repairOne(divergenceId: string, actor: string): Statement
}

/** `INSERT … SELECT <mapped> FROM src ON CONFLICT (key) DO UPDATE SET …`, the shape of the DAL's copy into the other side. */
function upsertFromSource(shape: MigrationShape, target: Side): string {
  const mapped = target === 'shadow' ? shape.forward : shape.backward
  const table = target === 'shadow' ? shape.shadowTable : shape.legacyTable
  const key = target === 'shadow' ? shape.shadowConflictKey : shape.legacyKey
  const nonKey = mapped.filter((m) => !key.includes(m.column))
  const onConflict =
    nonKey.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${nonKey.map((m) => `${q(m.column)} = EXCLUDED.${q(m.column)}`).join(', ')}`
  return `INSERT INTO ${table} (${list(mapped.map((m) => m.column))})${shape.overriding[target]} SELECT ${mapped.map((m) => m.expression).join(', ')} FROM src ON CONFLICT (${list(key)}) ${onConflict} RETURNING 1`
}

/** Deletes the key from the target side when the source has no row for it. */
function deleteMissing(shape: MigrationShape, target: Side): string {
  const keys = shape.legacyKey.map((_, i) => `f.${keyAlias(i)}`).join(', ')
  if (target === 'legacy') {
    return `DELETE FROM ${shape.legacyTable} AS lt WHERE (${legacySide(shape).refs.join(', ')}) IN (SELECT ${keys} FROM fix AS f) AND NOT EXISTS (SELECT 1 FROM src) RETURNING 1`
  }
  const types = keyTypes(shape)
  // The shadow's legacy key through `backward`, over the target row's own columns.
  const backwardKey = shape.legacyKey.map(
    (k, i) => `(${shape.backward.find((m) => m.column === k)?.expression ?? q(k)})::${types[i]}`,
  )
  return `DELETE FROM ${shape.shadowTable} AS st WHERE (${backwardKey.join(', ')}) IN (SELECT ${keys} FROM fix AS f) AND NOT EXISTS (SELECT 1 FROM src) RETURNING 1`
}

/**
 * `repairOne` either upserts the full mapped row from the source into the
 * other side or, when the source lacks the key, deletes it there; and marks
 * the divergence repaired, all in one statement. The source row is locked
 * FOR SHARE NOWAIT: when a transaction holds it, the statement fails at once
 * and is retried after a backoff, never queueing ahead of the application's
 * writers to that row.
 */
export function repairSql(shape: MigrationShape, schema: string, from: Side): RepairSql {
  const s = controlSchema(schema).quoted
  const types = keyTypes(shape)
  const source: KeySide = from === 'legacy' ? legacySide(shape) : shadowSide(shape)
  const sourceAlias = from === 'legacy' ? 'lt' : 'st'
  const target: Side = from === 'legacy' ? 'shadow' : 'legacy'
  /** The divergence's key, typed: `(d.key ->> $n)::type`, key names from parameter `first` on. */
  const typedKey = (first: number): string[] => shape.legacyKey.map((_, i) => `(d.key ->> $${first + i})::${types[i]}`)
  const aliases = shape.legacyKey.map((_, i) => keyAlias(i))

  const planKey = typedKey(2)
  const planText = `SELECT d.id::text AS id, d.kind, ${planKey.map((k, i) => `${k} AS ${aliases[i]}`).join(', ')},
       EXISTS (SELECT 1 FROM ${source.from} WHERE (${source.refs.join(', ')}) = (${planKey.join(', ')})) AS present
  FROM ${s}.divergences AS d WHERE d.migration = $1 AND d.repaired_at IS NULL ORDER BY d.id`

  const fixKey = typedKey(3)
  // A partitioned shadow: a row of the key in another partition than legacy's (moved, or a duplicate) goes.
  const moved = target === 'shadow' ? movedRowDelete(shape, 'src') : ''
  // The writer marker: a repair that writes legacy (shadow authoritative) is the tool's own write, never a bypass.
  const repairText = `WITH fix AS (
  UPDATE ${s}.divergences AS d SET repaired_at = clock_timestamp(), repaired_by = $2
   WHERE d.id = $1 AND d.repaired_at IS NULL
  RETURNING ${fixKey.map((k, i) => `${k} AS ${aliases[i]}`).join(', ')}
), src AS (
  SELECT ${sourceAlias}.* FROM ${source.from} JOIN fix ON (${source.refs.join(', ')}) = (${aliases.map((a) => `fix.${a}`).join(', ')})
  FOR SHARE OF ${sourceAlias} NOWAIT
)${
    moved
      ? `, moved AS (
  ${moved}
)`
      : ''
  }, copied AS (
  ${upsertFromSource(shape, target)}
), deleted AS (
  ${deleteMissing(shape, target)}
)
SELECT ${aliases.map((a) => `fix.${a}`).join(', ')}, EXISTS (SELECT 1 FROM src) AS present,
       (SELECT count(*) FROM copied)::int AS copied, (SELECT count(*) FROM deleted)::int AS deleted
  FROM fix WHERE ${WRITER_MARKER_FILTER}`

  return {
    authority: (migration) => ({ text: `SELECT authority FROM ${s}.state WHERE migration = $1`, values: [migration] }),
    plan: (migration) => ({ text: planText, values: [migration, ...shape.legacyKey] }),
    repairOne: (divergenceId, actor) => ({ text: repairText, values: [divergenceId, actor, ...shape.legacyKey] }),
  }
}
