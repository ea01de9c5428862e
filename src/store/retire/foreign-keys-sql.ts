/** Foreign keys that reference a table: read from the catalog, their orphans counted, and the DDL that drops and re-adds them. */
import { quoteIdent, quoteQualified, type QualifiedName } from '../../core/identifiers.js'
import type { ForeignKeyFacts } from '../../core/retire-plan.js'
import type { Queryable } from '../../db/queryable.js'

/** A foreign key retire dropped from the legacy table: `moved` (re-added on the shadow under the same name) or `dropped` (an equivalent one existed). */
export interface StoredForeignKey extends ForeignKeyFacts {
  readonly action: 'moved' | 'dropped'
  readonly shadowColumns: readonly string[]
  /** For `dropped`: the existing constraint on the shadow. */
  readonly equivalent?: string
}

interface Row {
  name: string
  schema: string
  table: string
  table_oid: number
  columns: string[]
  referenced: string[]
  on_update: string
  on_delete: string
  match: string
  deferrable: boolean
  deferred: boolean
  validated: boolean
}

/** Foreign keys of other tables referencing `tableOid` (partition clones left out: the parent's constraint stands for them). */
export async function readForeignKeysTo(db: Queryable, tableOid: number): Promise<ForeignKeyFacts[]> {
  const { rows } = await db.query<Row>(
    `SELECT c.conname AS name, n.nspname AS schema, t.relname AS table, c.conrelid::int AS table_oid,
            (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)::text[] AS columns,
            (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)::text[] AS referenced,
            c.confupdtype::text AS on_update, c.confdeltype::text AS on_delete, c.confmatchtype::text AS match,
            c.condeferrable AS deferrable, c.condeferred AS deferred, c.convalidated AS validated
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE c.contype = 'f' AND c.confrelid = $1 AND c.conrelid <> $1 AND c.conparentid = 0
      ORDER BY n.nspname, t.relname, c.conname`,
    [tableOid],
  )
  return rows.map((r) => ({
    name: r.name,
    table: { schema: r.schema, name: r.table },
    tableOid: r.table_oid,
    columns: r.columns,
    referencedColumns: r.referenced,
    onUpdate: r.on_update,
    onDelete: r.on_delete,
    match: r.match,
    deferrable: r.deferrable,
    deferred: r.deferred,
    validated: r.validated,
  }))
}

/** Child rows (all key columns set) whose key has no row in `target`: what a validated foreign key to `target` would reject. */
export function orphansSql(
  fk: ForeignKeyFacts,
  child: QualifiedName,
  target: QualifiedName,
  targetColumns: readonly string[],
  select: 'count' | 'list',
): string {
  const set = fk.columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ')
  const match = fk.columns
    .map((c, i) => `t.${quoteIdent(targetColumns[i] as string)} = c.${quoteIdent(c)}`)
    .join(' AND ')
  const what = select === 'count' ? 'count(*)::bigint AS orphans' : 'c.*'
  return `SELECT ${what} FROM ${quoteQualified(child)} AS c WHERE ${set} AND NOT EXISTS (SELECT 1 FROM ${quoteQualified(target)} AS t WHERE ${match})`
}

const ACTIONS: Readonly<Record<string, string>> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
}

/** `ALTER TABLE child ADD CONSTRAINT name FOREIGN KEY … REFERENCES target …`, keeping every property of `fk`. */
export function addForeignKeySql(
  fk: ForeignKeyFacts,
  child: QualifiedName,
  target: QualifiedName,
  targetColumns: readonly string[],
): string {
  const parts = [
    `ALTER TABLE ${quoteQualified(child)} ADD CONSTRAINT ${quoteIdent(fk.name)}`,
    `FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${quoteQualified(target)} (${targetColumns.map(quoteIdent).join(', ')})`,
  ]
  if (fk.match === 'f') parts.push('MATCH FULL')
  parts.push(`ON UPDATE ${ACTIONS[fk.onUpdate] ?? 'NO ACTION'}`, `ON DELETE ${ACTIONS[fk.onDelete] ?? 'NO ACTION'}`)
  if (fk.deferrable) parts.push(fk.deferred ? 'DEFERRABLE INITIALLY DEFERRED' : 'DEFERRABLE')
  if (!fk.validated) parts.push('NOT VALID')
  return parts.join(' ')
}

export function dropConstraintSql(child: QualifiedName, name: string): string {
  return `ALTER TABLE ${quoteQualified(child)} DROP CONSTRAINT ${quoteIdent(name)}`
}

/** The current name of a relation by oid (it may have been renamed since it was recorded), or undefined when it is gone. */
export async function relationName(db: Queryable, oid: number): Promise<QualifiedName | undefined> {
  const { rows } = await db.query<{ schema: string; name: string }>(
    'SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1',
    [oid],
  )
  return rows[0]
}

/** The kind of the relation named `table` (`r` table, `v` view, …), or undefined when there is none. */
export async function relationKind(
  db: Queryable,
  table: QualifiedName,
): Promise<{ oid: number; kind: string } | undefined> {
  const { rows } = await db.query<{ oid: number; kind: string }>(
    `SELECT c.oid::int AS oid, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [table.schema, table.name],
  )
  return rows[0]
}
