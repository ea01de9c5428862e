/** Records in `instances.definitions` (sql/0005) which definition version of a migration this process has loaded, for `cutover doctor`. */
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'

export async function recordLoadedDefinition(
  db: Queryable,
  schema: string,
  instanceId: string,
  migration: string,
  definitionVersion: number,
): Promise<void> {
  await db.query(
    `UPDATE ${controlSchema(schema).table('instances')} SET definitions = definitions || jsonb_build_object($2::text, $3::bigint) WHERE id = $1`,
    [instanceId, migration, definitionVersion],
  )
}
