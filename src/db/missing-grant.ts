/** Names the grant a permission error lacks, as `sql/grants/operator.sql` gives it to the operator role. */
import { quoteIdent, quoteQualified } from '../core/identifiers.js'
import { controlSchema } from './control-schema.js'
import type { MigrationTables } from './owned-tables.js'
import type { DeniedObject } from './pg-errors.js'

/** The operator role's privileges per control table (sql/grants/operator.sql). */
const OPERATOR_PRIVILEGES: Readonly<Record<string, string>> = {
  schema_versions: 'SELECT',
  instances: 'SELECT',
  migrations: 'SELECT, INSERT, UPDATE',
  state: 'SELECT, INSERT, UPDATE',
  events: 'SELECT, INSERT',
  jobs: 'SELECT, INSERT, UPDATE, DELETE',
  job_chunks: 'SELECT, INSERT, UPDATE, DELETE',
  divergences: 'SELECT, INSERT, UPDATE',
}

export interface MissingGrant {
  /** What was denied, as a person reads it (`table cutover.state`). */
  readonly object: string
  /** The GRANT statement that gives it. */
  readonly grant: string
}

/**
 * The grant an operator role needs for `denied`; `role` is the quoted role (or a placeholder). Write privileges are
 * offered only on the tables the migration owns: the control schema's, and its legacy and shadow tables (`tables`,
 * when known). Any other table is one a mapping reads: SELECT on it, and nothing more.
 */
export function missingGrant(
  denied: DeniedObject,
  schema: string,
  role: string,
  tables?: MigrationTables,
): MissingGrant {
  const s = controlSchema(schema).quoted
  const file = ' (as in sql/grants/operator.sql)'
  if (denied.kind === 'schema' && denied.name)
    return {
      object: `schema ${denied.name}`,
      grant: `GRANT USAGE ON SCHEMA ${quoteIdent(denied.name)} TO ${role}${file}`,
    }
  if (denied.kind === 'table' && denied.name) {
    const privileges = OPERATOR_PRIVILEGES[denied.name]
    if (privileges)
      return {
        object: `table ${schema}.${denied.name}`,
        grant: `GRANT ${privileges} ON ${s}.${quoteIdent(denied.name)} TO ${role}${file}`,
      }
    const resolved = tables?.denied
    const own = tables?.owned.find((t) => (resolved ? t.schema === resolved.schema : true) && t.name === denied.name)
    if (own)
      return {
        object: `table ${own.schema}.${own.name}`,
        grant: `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${quoteQualified(own)} TO ${role}${file}`,
      }
    const object = resolved ? `table ${resolved.schema}.${resolved.name}` : `table ${denied.name}`
    const readOnly = `GRANT SELECT ON TABLE ${resolved ? quoteQualified(resolved) : `<schema>.${quoteIdent(denied.name)}`} TO ${role}`
    if (tables)
      return {
        object,
        grant: `${readOnly} (SELECT only: a mapping reads it, and it is not one of the migration's tables)`,
      }
    return {
      object,
      grant: `${readOnly} (SELECT only, unless it is the migration's legacy or shadow table: then SELECT, INSERT, UPDATE, DELETE${file})`,
    }
  }
  if (denied.kind === 'sequence')
    return {
      object: `sequence ${denied.name ?? ''}`.trim(),
      grant: `GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${role}${file}`,
    }
  if (denied.kind === 'function' && denied.name)
    return { object: `function ${denied.name}`, grant: `GRANT EXECUTE ON FUNCTION ${denied.name} TO ${role}` }
  return { object: 'the database', grant: `the grants in sql/grants/operator.sql for ${role}` }
}
