/** What cutover knows of a table from the catalog (read by store/catalog/catalog.ts), and the keys it judges from that alone. */

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
  const candidates = info.uniqueKeys.filter(
    (k) => key.every((c) => k.includes(c)) && k.every((c) => key.includes(c) || partition.has(c)),
  )
  const shortest = [...candidates].sort((a, b) => a.length - b.length)[0]
  return shortest ? [...key, ...shortest.filter((c) => !key.includes(c))] : undefined
}
