/** Check 9: what the shadow lacks that the legacy table has (issue 9.3); `--apply` runs the SQL cutover can write. */
import { CutoverError } from '../../core/errors.js'
import { isLockWait, serverMessage } from '../../db/pg-errors.js'
import { readRetirement } from '../retire/retirement.js'
import { readParityGaps } from '../parity/schema-parity.js'
import type { DoctorCheck, Finding } from './finding.js'
import { definitionInvalidFinding } from './definition-invalid.js'

export const schemaParityCheck: DoctorCheck = async (db, { schema, migration }) => {
  // Once retired, the legacy name is a view (or nothing): there is no legacy table left to compare with.
  if (await readRetirement(db, schema, migration.name)) return []
  let gaps
  try {
    gaps = await readParityGaps(db, schema, migration.name)
  } catch (error) {
    // Reading a table's columns opens it (pg_get_expr): behind an ACCESS EXCLUSIVE lock that is a lock wait, reported, not a crash.
    if (isLockWait(error)) {
      return [
        {
          migration: migration.name,
          severity: 'warning',
          code: 'parity_unchecked',
          message: `could not read ${migration.legacyTable} and ${migration.shadowTable} to compare them: ${serverMessage(error)}; a lock blocks it (see long_transaction)`,
          command: `cutover doctor ${migration.name}`,
        },
      ]
    }
    if (!(error instanceof CutoverError)) throw error
    return [definitionInvalidFinding(migration, error.message)]
  }
  // Before shadow_primary a gap is work to do; from then on the application relies on the shadow alone.
  const severity = migration.phase === 'shadow_primary' || migration.phase === 'complete' ? 'error' : 'warning'
  return gaps.map((gap): Finding => ({
    migration: migration.name,
    severity,
    code: `parity_${gap.item}`,
    message: `the shadow lacks ${gap.object}: ${gap.description}`,
    command: gap.fixSql
      ? `cutover doctor ${migration.name} --apply   (runs: ${gap.fixSql})`
      : 'a person must write it: create the equivalent on the shadow under the same name (runbooks/doctor.md)',
    ...(gap.fixSql ? { applySql: [gap.fixSql] } : {}),
  }))
}
