/** Check 10: the last precheck: missing or outdated before dual_write, or one that found rows the mapping cannot carry. */
import { summariseClasses } from '../../core/precheck-classes.js'
import { readEvidence } from '../evidence/evidence-sql.js'
import type { DoctorCheck } from './finding.js'

export const precheckCheck: DoctorCheck = async (db, { schema, migration }) => {
  if (migration.phase === 'complete') return []
  // The soak is not judged here: any value reads the same precheck facts.
  const { lastPrecheck, definitionVersion } = await readEvidence(db, schema, migration.name, 0)
  const command = `cutover precheck ${migration.name}`
  const base = { migration: migration.name, command }
  if (!lastPrecheck) {
    if (migration.phase !== 'off') return []
    return [
      {
        ...base,
        severity: 'warning',
        code: 'precheck_missing',
        message: `${migration.name} is in off with no precheck on record: entering dual_write is refused until the mapping carries every legacy row`,
      },
    ]
  }
  if (!lastPrecheck.clean) {
    const where =
      migration.phase === 'off'
        ? 'entering dual_write is refused until they are fixed'
        : `in ${migration.phase} the application's writes to them fail (onSecondaryError fail) or are recorded as divergences (record)`
    return [
      {
        ...base,
        severity: migration.phase === 'off' ? 'warning' : 'error',
        code: 'precheck_failing',
        message:
          `the last precheck (${lastPrecheck.at.toISOString()}, definition version ${lastPrecheck.definitionVersion}) found ${lastPrecheck.failingRows} legacy row(s) the mapping cannot carry ` +
          `(${summariseClasses(lastPrecheck.classes)}); ${where}; fix the rows (the precheck lists each class's keys and a query for all of them), then precheck again`,
      },
    ]
  }
  if (migration.phase === 'off' && lastPrecheck.definitionVersion !== definitionVersion) {
    return [
      {
        ...base,
        severity: 'warning',
        code: 'precheck_outdated',
        message: `the last clean precheck checked definition version ${lastPrecheck.definitionVersion}, and the registered one is version ${definitionVersion}: entering dual_write is refused until the current one is prechecked`,
      },
    ]
  }
  return []
}
