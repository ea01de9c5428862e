/** Check: the key source of the shadow, missing (legacy's key has a sequence, the shadow's column none) or behind a key already written. */
import { CutoverError } from '../../core/errors.js'
import { displayName } from '../../core/identifiers.js'
import { isLockWait } from '../../db/pg-errors.js'
import { loadMigration } from '../definitions/definitions.js'
import { keySourceFixSql, readKeySourceProblems } from '../keys/key-source-sql.js'
import type { DoctorCheck, Finding } from './finding.js'
import { definitionInvalidFinding } from './definition-invalid.js'

export const keySourceCheck: DoctorCheck = async (db, { schema, migration }) => {
  let checked
  try {
    // A retired migration too: after the drop of the retired table the shadow alone gives keys.
    checked = await loadMigration(db, schema, migration.name, { allowRetired: true })
  } catch (error) {
    if (isLockWait(error)) return []
    if (!(error instanceof CutoverError)) throw error
    return [definitionInvalidFinding(migration, error.message)]
  }
  const problems = await readKeySourceProblems(db, checked)
  // Once the shadow is authoritative (or before, when the application is about to rely on it) a bad key source breaks inserts.
  const severity = migration.phase === 'shadow_primary' || migration.phase === 'complete' ? 'error' : 'warning'
  return problems.map((problem): Finding => {
    const fix = keySourceFixSql(checked, problem)
    const message =
      problem.kind === 'missing'
        ? `shadow column "${problem.shadowColumn}" of ${displayName(checked.definition.shadow.table)} has no sequence or identity, while legacy column "${problem.legacyColumn}" takes its keys from ${problem.legacySequence}: inserts without a key have no key source once the shadow is authoritative`
        : `sequence ${problem.source.shadowSequence} of shadow column "${problem.source.shadowColumn}" is at ${problem.position}, behind the highest key written (${problem.highest}): inserts without a key would collide`
    // While legacy exists, schema parity's sequence gap adds the missing sequence (and sets it): one fix, not two.
    if (problem.kind === 'missing' && checked.retiredLegacyTable === undefined) {
      return {
        migration: migration.name,
        severity,
        code: 'key_source_missing',
        message,
        command: `cutover doctor ${migration.name} --apply   (the parity_sequence finding adds it)`,
      }
    }
    return {
      migration: migration.name,
      severity,
      code: problem.kind === 'missing' ? 'key_source_missing' : 'key_source_behind',
      message,
      command: `cutover doctor ${migration.name} --apply   (runs: ${fix})`,
      applySql: [fix],
    }
  })
}
