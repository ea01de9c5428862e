/** The foreign keys between a group's shadow tables, as member → the members its shadow references. */
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'

export async function readShadowReferences(
  db: Queryable,
  schema: string,
  members: readonly string[],
): Promise<Map<string, string[]>> {
  const m = controlSchema(schema).table('migrations')
  const { rows } = await db.query<{ child: string; parent: string }>(
    `SELECT DISTINCT c.name AS child, p.name AS parent
       FROM pg_constraint k
       JOIN ${m} c ON c.shadow_table = k.conrelid
       JOIN ${m} p ON p.shadow_table = k.confrelid
      WHERE k.contype = 'f' AND c.name = ANY ($1::text[]) AND p.name = ANY ($1::text[]) AND c.name <> p.name
      ORDER BY 1, 2`,
    [members],
  )
  const references = new Map<string, string[]>(members.map((name) => [name, []]))
  for (const r of rows) references.get(r.child)?.push(r.parent)
  return references
}

/** One foreign key from a member's shadow to another member's shadow: its columns and the ones they reference, in order. */
export interface ShadowForeignKey {
  readonly child: string
  readonly parent: string
  readonly columns: readonly string[]
  readonly referenced: readonly string[]
}

/** Every foreign key between the shadows of `members` (a member referencing its own shadow is left out). */
export async function readShadowForeignKeys(
  db: Queryable,
  schema: string,
  members: readonly string[],
): Promise<ShadowForeignKey[]> {
  const m = controlSchema(schema).table('migrations')
  const { rows } = await db.query<ShadowForeignKey>(
    `SELECT c.name AS child, p.name AS parent, array_agg(ca.attname::text ORDER BY u.i) AS columns, array_agg(pa.attname::text ORDER BY u.i) AS referenced
       FROM pg_constraint k
       JOIN ${m} c ON c.shadow_table = k.conrelid
       JOIN ${m} p ON p.shadow_table = k.confrelid
      CROSS JOIN LATERAL unnest(k.conkey, k.confkey) WITH ORDINALITY AS u(own, ref, i)
       JOIN pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.own
       JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.ref
      WHERE k.contype = 'f' AND c.name = ANY ($1::text[]) AND p.name = ANY ($1::text[]) AND c.name <> p.name
      GROUP BY k.oid, c.name, p.name
      ORDER BY c.name, p.name, k.oid`,
    [members],
  )
  return rows
}
