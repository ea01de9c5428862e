/** Names the grant a permission error lacks, as `sql/grants/operator.sql` gives it to the operator role. */
import { quoteIdent } from '../core/identifiers.js'
import { controlSchema } from './control-schema.js'
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

/** The grant an operator role needs for `denied`; `role` is the quoted role (or a placeholder). */
export function missingGrant(denied: DeniedObject, schema: string, role: string): MissingGrant {
  const s = controlSchema(schema).quoted
  const file = ' (as in sql/grants/operator.sql)'
  if (denied.kind === 'schema' && denied.name) return { object: `schema ${denied.name}`, grant: `GRANT USAGE ON SCHEMA ${quoteIdent(denied.name)} TO ${role}${file}` }
  if (denied.kind === 'table' && denied.name) {
    const privileges = OPERATOR_PRIVILEGES[denied.name]
    if (privileges) return { object: `table ${schema}.${denied.name}`, grant: `GRANT ${privileges} ON ${s}.${quoteIdent(denied.name)} TO ${role}${file}` }
    return { object: `table ${denied.name}`, grant: `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE <schema>.${quoteIdent(denied.name)} TO ${role}${file}` }
  }
  if (denied.kind === 'sequence') return { object: `sequence ${denied.name ?? ''}`.trim(), grant: `GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${role}${file}` }
  if (denied.kind === 'function' && denied.name) return { object: `function ${denied.name}`, grant: `GRANT EXECUTE ON FUNCTION ${denied.name} TO ${role}` }
  return { object: 'the database', grant: `the grants in sql/grants/operator.sql for ${role}` }
}
