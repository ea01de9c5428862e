/** Reads what cutover needs to know about a table from the live catalog. */
import type pg from 'pg'
import { quoteQualified, type QualifiedName } from '../../core/identifiers.js'

export interface ColumnInfo {
  readonly name: string
  /**
   * `format_type` of the column, such as `character varying(40)` or `uuid`; a type outside pg_catalog always
   * schema-qualified (`public.color_t`), so the text means the same type under any search_path, the bypass net's
   * pinned `pg_catalog, pg_temp` included (where an unqualified one would be looked up in pg_temp).
   */
  readonly type: string
  readonly isNotNull: boolean
  readonly hasDefault: boolean
  /** Generated columns cannot be written. */
  readonly isGenerated: boolean
  /** The column default as SQL (`pg_get_expr`), or null. */
  readonly defaultSql: string | null
  /** `a` GENERATED ALWAYS AS IDENTITY, `d` BY DEFAULT, '' none (absent in what older retire events recorded). */
  readonly identity?: string
  /** The sequence the column takes its values from (identity, owned, or the `nextval` of its default), quoted and qualified, or null. */
  readonly sequence?: string | null
}

export interface TableInfo {
  readonly oid: number
  readonly columns: ReadonlyMap<string, ColumnInfo>
  /** Column lists of the primary key and of every plain (non-partial, non-expression) unique index. */
  readonly uniqueKeys: readonly (readonly string[])[]
  /** A partitioned table's partition key columns (an expression in it is named `(expression)`); empty for a plain table. */
  readonly partitionColumns?: readonly string[]
}

/** The one table or view named `name` on the search path (what an unqualified name in a statement resolves to); undefined when there is none. */
export async function visibleTableNamed(client: pg.ClientBase, name: string): Promise<QualifiedName | undefined> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_table_is_visible(c.oid)`,
    [name],
  )
  return rows.length === 1 ? rows[0] : undefined
}

export async function readTableInfo(client: pg.ClientBase, table: QualifiedName): Promise<TableInfo | undefined> {
  const { rows: found } = await client.query<{ oid: number | null }>(
    `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [table.schema, table.name],
  )
  const oid = found[0]?.oid
  if (oid === undefined || oid === null) return undefined
  const { rows: columns } = await client.query<{ name: string; type: string; not_null: boolean; has_default: boolean; generated: boolean; default_sql: string | null; identity: string; sequence: string | null }>(
    `SELECT a.attname AS name,
            CASE WHEN bt.typnamespace <> 'pg_catalog'::regnamespace AND pg_type_is_visible(bt.oid) THEN quote_ident(bn.nspname) || '.' ELSE '' END
              || format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null,
            (a.atthasdef OR a.attidentity <> '') AS has_default, a.attgenerated <> '' AS generated,
            CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_sql, a.attidentity::text AS identity,
            CASE WHEN a.attidentity <> ''
              THEN (SELECT format('%I.%I', sn.nspname, sc.relname) FROM pg_depend dp JOIN pg_class sc ON sc.oid = dp.objid AND sc.relkind = 'S'
                      JOIN pg_namespace sn ON sn.oid = sc.relnamespace
                     WHERE dp.classid = 'pg_class'::regclass AND dp.refobjid = a.attrelid AND dp.refobjsubid = a.attnum AND dp.deptype = 'i' LIMIT 1)
              ELSE (SELECT format('%I.%I', sn.nspname, sc.relname) FROM pg_depend dp JOIN pg_class sc ON sc.oid = dp.refobjid AND sc.relkind = 'S'
                      JOIN pg_namespace sn ON sn.oid = sc.relnamespace
                     WHERE dp.classid = 'pg_attrdef'::regclass AND dp.objid = d.oid AND dp.refclassid = 'pg_class'::regclass ORDER BY sc.oid LIMIT 1)
            END AS sequence
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
       JOIN pg_namespace bn ON bn.oid = bt.typnamespace
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  )
  const { rows: keys } = await client.query<{ columns: string[] }>(
    `SELECT array_agg(a.attname ORDER BY k.ord)::text[] AS columns
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid
      GROUP BY i.indexrelid, i.indisprimary ORDER BY i.indisprimary DESC`,
    [oid],
  )
  const { rows: partitioned } = await client.query<{ columns: string[] }>(
    `SELECT array_agg(coalesce(a.attname::text, '(expression)') ORDER BY k.ord)::text[] AS columns
       FROM pg_partitioned_table p CROSS JOIN LATERAL unnest(p.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
       LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum
      WHERE p.partrelid = $1 GROUP BY p.partrelid`,
    [oid],
  )
  return {
    oid,
    partitionColumns: partitioned[0]?.columns ?? [],
    columns: new Map(columns.map((c) => [c.name, { name: c.name, type: c.type, isNotNull: c.not_null, hasDefault: c.has_default, isGenerated: c.generated, defaultSql: c.default_sql, identity: c.identity, sequence: c.sequence }])),
    uniqueKeys: keys.map((k) => k.columns),
  }
}

/** True when `key` (in any order) is exactly the column set of the primary key or of a unique index. */
export function isUniqueKey(info: TableInfo, key: readonly string[]): boolean {
  const wanted = [...key].sort().join('\u0000')
  return info.uniqueKeys.some((k) => [...k].sort().join('\u0000') === wanted)
}

/**
 * The unique key the shadow's writes name in ON CONFLICT for logical key `key`: `key` itself when unique, else, for a
 * partitioned table, a unique key made of `key` and partition columns only (PostgreSQL requires the partition columns
 * in every unique key of a partitioned table). Undefined when there is neither.
 */
export function conflictKeyOf(info: TableInfo, key: readonly string[]): readonly string[] | undefined {
  if (isUniqueKey(info, key)) return key
  const partition = new Set(info.partitionColumns ?? [])
  const candidates = info.uniqueKeys.filter((k) => key.every((c) => k.includes(c)) && k.every((c) => key.includes(c) || partition.has(c)))
  const shortest = [...candidates].sort((a, b) => a.length - b.length)[0]
  return shortest ? [...key, ...shortest.filter((c) => !key.includes(c))] : undefined
}

/** Compiles `text` (never runs it: EXPLAIN without ANALYZE) over the extended protocol, which refuses a second statement. */
export async function compileOnly(client: pg.ClientBase, text: string): Promise<void> {
  await client.query({ text: `EXPLAIN (COSTS OFF) ${text}`, values: [], queryMode: 'extended' } as pg.QueryConfig)
}

export { quoteQualified }
