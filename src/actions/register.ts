/**
 * `cutover register`: validates definitions against the live catalog and
 * registers them, all or nothing, in one transaction. A changed definition
 * gets a new definition version, notified to the running processes, which
 * reload it and acknowledge; a changed mapping from dual_write on needs
 * `force`, since writers move over one by one.
 */
import type { MigrationDefinition } from '../core/definition.js'
import { definitionToJson } from '../core/definition-json.js'
import { ConfigInvalid, MappingChangeRefused } from '../core/errors.js'
import { displayName } from '../core/identifiers.js'
import { describeMappingChange, diffMapping, isMappingChangeRisky, type MappingChange } from '../core/mapping-diff.js'
import { parseMigration } from '../core/parse-config.js'
import { isPhase } from '../core/phases.js'
import { checkKeySourcePrivileges } from '../store/keys/key-source-sql.js'
import { checkAgainstCatalog, type CheckedMigration } from '../store/catalog/check-against-catalog.js'
import { refuseWhenRetired } from '../store/retire/retirement.js'
import { registerDefinition } from '../store/definitions/register-definition-sql.js'
import {
  readPreviousDefinition,
  readShadowOwner,
  type PreviousDefinition,
} from '../store/definitions/registration-sql.js'
import { withTransaction } from '../db/with-transaction.js'
import { migrationShape } from '../shape/migration-shape.js'
import {
  sessionDependentCasts,
  withSessionSettings,
  type SessionDependentCast,
} from '../store/catalog/session-settings-sql.js'
import { waitForAcknowledgements, type Acknowledgements } from './acknowledgements.js'
import type { Pool } from './apply-state-change.js'
import { checkGroupsRegistered } from './group-registration.js'

export interface RegisterOptions {
  readonly schema: string
  readonly actor: string
  readonly reason?: string | undefined
  /** Accept a mapping change while writers dual-write (recorded in the event). */
  readonly force?: boolean
  /** How long to wait for running processes to load a changed definition; default 1000 ms. */
  readonly ackTimeoutMs?: number
  /** The config file, to name in a refusal's command (`cutover register --config FILE --force`). */
  readonly source?: string
}

export interface RegisteredMigration extends CheckedMigration {
  /** `registered` (new), `changed` (a new definition version), `unchanged` (identical: nothing written but nothing refused). */
  readonly outcome: 'registered' | 'changed' | 'unchanged'
  readonly definitionVersion: number
  /** forward/backward entries that changed (empty for a new or unchanged definition). */
  readonly mappingChanges: readonly MappingChange[]
  /** For a changed definition: the running processes that loaded it within the wait, and those that did not. */
  readonly acknowledgements?: Acknowledgements
  /** Mapping expressions whose result depends on the session settings (evaluated under the definition's `session`). */
  readonly sessionDependent: readonly SessionDependentCast[]
}

/** Validates and registers (or re-registers) definitions. All or nothing: the first refusal throws and nothing is written. */
export async function registerMigrations(
  pool: Pool,
  definitions: readonly MigrationDefinition[],
  options: RegisterOptions,
): Promise<RegisteredMigration[]> {
  const written = await withTransaction(pool, async (client) => {
    const checked: {
      result: CheckedMigration
      previous: PreviousDefinition | undefined
      changes: MappingChange[]
      sessionDependent: SessionDependentCast[]
    }[] = []
    for (const configured of definitions) {
      // The settings the mapping is evaluated under: the config's, else this session's, recorded with the definition.
      const def = await withSessionSettings(client, configured)
      // A retired migration's legacy name may be its alias view: re-registering would point it there.
      await refuseWhenRetired(client, options.schema, def.name)
      const result = await checkAgainstCatalog(client, def)
      await checkKeySourcePrivileges(client, result)
      const owner = await readShadowOwner(client, options.schema, result.shadow.oid, def.name)
      if (owner !== undefined) {
        throw new ConfigInvalid(
          def.name,
          `shadow table ${displayName(def.shadow.table)} already belongs to migration "${owner}"; each shadow table belongs to one migration`,
        )
      }
      const previous = await readPreviousDefinition(client, options.schema, def.name, definitionToJson(def))
      const changes = previous && !previous.same ? diffMapping(parseMigration(previous.definition), def) : []
      if (previous && isPhase(previous.phase) && isMappingChangeRisky(previous.phase, changes) && !options.force) {
        const again = options.source
          ? `cutover register --config ${options.source} --force`
          : 'the same register with --force (from code: force: true)'
        throw new MappingChangeRefused(
          def.name,
          previous.phase,
          changes.map(describeMappingChange),
          `run: ${again}, then: cutover verify ${def.name} (and cutover repair ${def.name} for what it finds)`,
        )
      }
      checked.push({
        result,
        previous,
        changes,
        sessionDependent: await sessionDependentCasts(client, migrationShape(result)),
      })
    }
    const registered: (RegisteredMigration & { stateVersion?: number })[] = []
    for (const { result, previous, changes, sessionDependent } of checked) {
      const def = result.definition
      if (previous?.same) {
        registered.push({
          ...result,
          outcome: 'unchanged',
          definitionVersion: Number(previous.definition_version),
          mappingChanges: [],
          sessionDependent,
        })
        continue
      }
      const forced =
        (options.force ?? false) &&
        previous !== undefined &&
        isPhase(previous.phase) &&
        isMappingChangeRisky(previous.phase, changes)
      // The one door to the definitions (sql/0010): it resolves every expression itself, versions, records and notifies.
      const written = await registerDefinition(client, options.schema, {
        name: def.name,
        definition: definitionToJson(def),
        legacy: result.legacy.oid,
        shadow: result.shadow.oid,
        actor: options.actor,
        reason: options.reason,
        forced,
        details: previous ? { mappingChanges: changes, phase: previous.phase } : {},
      })
      const definitionVersion = written.definitionVersion
      const stateVersion = written.outcome === 'changed' ? written.stateVersion : undefined
      registered.push({
        ...result,
        outcome: written.outcome,
        definitionVersion,
        mappingChanges: changes,
        sessionDependent,
        ...(stateVersion === undefined ? {} : { stateVersion }),
      })
    }
    await checkGroupsRegistered(
      client,
      options.schema,
      definitions.map((d) => d.name),
    )
    return registered
  })
  // After commit: each running process reloads a changed definition, then acknowledges its state version.
  const results: RegisteredMigration[] = []
  for (const { stateVersion, ...entry } of written) {
    if (stateVersion === undefined) {
      results.push(entry)
      continue
    }
    const acknowledgements = await waitForAcknowledgements(
      pool,
      options.schema,
      entry.definition.name,
      stateVersion,
      options.ackTimeoutMs ?? 1000,
    )
    results.push({ ...entry, acknowledgements })
  }
  return results
}
