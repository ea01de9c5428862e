/** Reads what cutover needs to know about a table from the live catalog. */
import type pg from 'pg'
import { quoteQualified, type QualifiedName } from '../../core/identifiers.js'
import type { TableInfo } from '../../core/table-info.js'

// What the catalog says of a table is pure data, shared with the shapes built from it (core/table-info.ts).
export type { ColumnInfo, TableInfo } from '../../core/table-info.js'
export { conflictKeyOf, isUniqueKey } from '../../core/table-info.js'

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
  const { rows: columns } = await client.query<{
    name: string
    type: string
    not_null: boolean
    has_default: boolean
    generated: boolean
    default_sql: string | null
    identity: string
    sequence: string | null
  }>(
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
    columns: new Map(
      columns.map((c) => [
        c.name,
        {
          name: c.name,
          type: c.type,
          isNotNull: c.not_null,
          hasDefault: c.has_default,
          isGenerated: c.generated,
          defaultSql: c.default_sql,
          identity: c.identity,
          sequence: c.sequence,
        },
      ]),
    ),
    uniqueKeys: keys.map((k) => k.columns),
  }
}

/** Compiles `text` (never runs it: EXPLAIN without ANALYZE) over the extended protocol, which refuses a second statement. */
export async function compileOnly(client: pg.ClientBase, text: string): Promise<void> {
  await client.query({ text: `EXPLAIN (COSTS OFF) ${text}`, values: [], queryMode: 'extended' } as pg.QueryConfig)
}

export { quoteQualified }
