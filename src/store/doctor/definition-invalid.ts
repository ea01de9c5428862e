/** The finding for a registered definition that no longer fits the tables: one wording for every check that loads it. */
import type { Finding, MigrationFacts } from './finding.js'

/**
 * From `dual_write` on, `register` refuses a changed mapping without `--force` (running processes write with the old
 * one until they reload), so the fix names the flag there: the suggested command is one the tool then accepts.
 */
export function definitionInvalidFinding(migration: MigrationFacts, message: string): Finding {
  const register =
    migration.phase === 'off'
      ? 'cutover register --config FILE'
      : `cutover register --config FILE --force, then: cutover verify ${migration.name}`
  return {
    migration: migration.name,
    severity: 'error',
    code: 'definition_invalid',
    message,
    command: `fix the tables or the definition, then: ${register}`,
  }
}
