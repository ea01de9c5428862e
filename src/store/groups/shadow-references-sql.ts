/** The foreign keys between a group's shadow tables, as member → the members its shadow references. */
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'

export async function readShadowReferences(db: Queryable, schema: string, members: readonly string[]): Promise<Map<string, string[]>> {
  const m = controlSchema(schema).table('migrations')
  const { rows } = await db.query<{ child: string; parent: string }>(
    `SELECT DISTINCT c.name AS child, p.name AS parent
       FROM pg_constraint k
       JOIN ${m} c ON c.shadow_table = k.conrelid
       JOIN ${m} p ON p.shadow_table = k.confrelid
      WHERE k.contype = 'f' AND c.name = ANY ($1::text[]) AND p.name = ANY ($1::text[]) AND c.name <> p.name
      ORDER BY 1, 2`, [members])
  const references = new Map<string, string[]>(members.map((name) => [name, []]))
  for (const r of rows) references.get(r.child)?.push(r.parent)
  return references
}
