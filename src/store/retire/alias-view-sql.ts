/**
 * The alias view of a retired legacy table: the shadow seen through the
 * `backward` mapping under the legacy table's name, with the legacy table's
 * grants, so code not yet moved keeps reading it (and writing the columns
 * PostgreSQL can update through a simple view).
 */
import { quoteIdent, quoteQualified, type QualifiedName } from '../../core/identifiers.js'
import type { MappedColumn } from '../../core/mapping.js'
import { plainColumnOf } from '../../core/retire-plan.js'
import type { TableInfo } from '../catalog/catalog.js'
import type { Queryable } from '../../db/queryable.js'

/**
 * `CREATE VIEW legacy AS SELECT <backward> FROM shadow`. A column that is a
 * plain shadow column of the legacy column's type is selected as is, so the
 * view can update it; any other is cast to the legacy type (read-only).
 */
export function createAliasViewSql(
  view: QualifiedName,
  shadow: QualifiedName,
  backward: readonly MappedColumn[],
  legacy: TableInfo,
  shadowInfo: TableInfo,
): string {
  const items = backward.map((m) => {
    const plain = plainColumnOf(m.expression)
    const legacyType = legacy.columns.get(m.column)?.type
    const sameType = plain !== undefined && shadowInfo.columns.get(plain)?.type === legacyType
    const expression = sameType ? quoteIdent(plain) : `(${m.expression})::${legacyType ?? 'text'}`
    return `${expression} AS ${quoteIdent(m.column)}`
  })
  return `CREATE VIEW ${quoteQualified(view)} AS SELECT ${items.join(', ')} FROM ${quoteQualified(shadow)}`
}

/** Grants the view what was granted on the legacy table (table-level privileges a view can hold). */
export async function copyGrants(db: Queryable, fromOid: number, view: QualifiedName): Promise<string[]> {
  const { rows } = await db.query<{ grantee: string | null; privilege: string }>(
    `SELECT r.rolname AS grantee, a.privilege_type AS privilege
       FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) AS a LEFT JOIN pg_roles r ON r.oid = a.grantee
      WHERE c.oid = $1 AND a.grantee <> c.relowner AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRIGGER')
      ORDER BY 1, 2`,
    [fromOid],
  )
  const granted: string[] = []
  for (const row of rows) {
    const grantee = row.grantee === null ? 'PUBLIC' : quoteIdent(row.grantee)
    await db.query(`GRANT ${row.privilege} ON ${quoteQualified(view)} TO ${grantee}`)
    granted.push(`${row.privilege} to ${row.grantee ?? 'PUBLIC'}`)
  }
  return granted
}

export interface AliasWrites {
  /** Whether PostgreSQL accepts INSERT/UPDATE/DELETE through the view at all. */
  readonly isUpdatable: boolean
  readonly updatableColumns: readonly string[]
  readonly readOnlyColumns: readonly string[]
}

/** What the view accepts in writes, as information_schema reports it. */
export async function aliasWrites(db: Queryable, view: QualifiedName): Promise<AliasWrites> {
  const { rows } = await db.query<{ column: string; updatable: string }>(
    `SELECT column_name::text AS column, is_updatable::text AS updatable FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [view.schema, view.name],
  )
  const { rows: views } = await db.query<{ updatable: string }>(
    'SELECT is_updatable::text AS updatable FROM information_schema.views WHERE table_schema = $1 AND table_name = $2',
    [view.schema, view.name],
  )
  return {
    isUpdatable: views[0]?.updatable === 'YES',
    updatableColumns: rows.filter((r) => r.updatable === 'YES').map((r) => r.column),
    readOnlyColumns: rows.filter((r) => r.updatable !== 'YES').map((r) => r.column),
  }
}
