/** Mirrors `ramp` and `rollback` onto a migration's Unleash toggle, for migrations that route with Unleash. */
import type { Queryable } from '../db/queryable.js'
import { ConfigInvalid } from '../core/errors.js'
import type { MigrationDefinition } from '../core/definition.js'
import { loadDefinition } from '../store/definitions/definitions.js'
import { toggleName } from './toggle-name.js'
import { UnleashAdmin } from './unleash-admin.js'
import { UnleashAdminFailed } from './unleash-admin-failed.js'

export interface MirrorOptions {
  readonly schema: string
  readonly migration: string
  /** `--unleash-url`; else env `UNLEASH_URL`. */
  readonly url?: string | undefined
  /** Where `UNLEASH_URL`, `UNLEASH_ADMIN_TOKEN`, `UNLEASH_PROJECT` and `UNLEASH_ENVIRONMENT` are read; default process.env. */
  readonly env?: NodeJS.ProcessEnv
}

export interface UnleashMirror {
  readonly toggle: string
  /** Sets the toggle to `percent` % and enables it; the line to print. Throws UnleashAdminFailed. */
  afterRamp(percent: number): Promise<string>
}

export interface RollbackMirror {
  /** What was done in Unleash, when something was. */
  readonly said?: string
  /** Why Unleash does not agree yet; the rollback itself is in force regardless. */
  readonly warning?: string
}

function adminFor(options: MirrorOptions): UnleashAdmin | undefined {
  const env = options.env ?? process.env
  const url = options.url ?? env.UNLEASH_URL
  if (!url) return undefined
  return new UnleashAdmin({
    url,
    token: env.UNLEASH_ADMIN_TOKEN,
    project: env.UNLEASH_PROJECT,
    environment: env.UNLEASH_ENVIRONMENT,
  })
}

function missingUrl(definition: MigrationDefinition): string {
  return `routes reads with Unleash (toggle "${toggleName(definition)}") but no Unleash URL was given; pass --unleash-url https://unleash.example.com/api or set UNLEASH_URL (and UNLEASH_ADMIN_TOKEN)`
}

/**
 * Before `ramp` changes anything: undefined for a migration routed by the control
 * schema; for one routed by Unleash, the mirror to call after the change. Throws
 * ConfigInvalid when the migration routes with Unleash but no URL is known.
 */
export async function unleashMirrorFor(db: Queryable, options: MirrorOptions): Promise<UnleashMirror | undefined> {
  const definition = await loadDefinition(db, options.schema, options.migration)
  if (definition.routing.provider !== 'unleash') return undefined
  const admin = adminFor(options)
  if (!admin) throw new ConfigInvalid(definition.name, missingUrl(definition))
  const toggle = toggleName(definition)
  return {
    toggle,
    afterRamp: async (percent) => {
      try {
        await admin.setRolloutPercent(toggle, percent, definition.name)
      } catch (error) {
        if (!(error instanceof UnleashAdminFailed)) throw error
        throw new UnleashAdminFailed(
          toggle,
          `${error.detail}; the control schema is at ramp ${percent} % but ramp reads follow Unleash's current rollout until it is updated: fix that, then re-run: cutover ramp ${definition.name} ${percent}`,
          { cause: error },
        )
      }
      return `unleash: toggle "${toggle}" enabled at ${percent} % (flexibleRollout, stickiness userId, groupId ${definition.name}) in ${admin.environment}`
    },
  }
}

/** After a rollback: disables the toggle of an Unleash-routed migration. Never throws; a failure is a warning. */
export async function mirrorRollback(db: Queryable, options: MirrorOptions): Promise<RollbackMirror> {
  const inForce = `the rollback is in force (routing obeys the control schema)`
  let definition: MigrationDefinition
  try {
    definition = await loadDefinition(db, options.schema, options.migration)
  } catch (error) {
    return {
      warning: `${options.migration}: ${inForce}, but its definition could not be read to update Unleash (${error instanceof Error ? error.message : String(error)}); if it routes with Unleash, disable its toggle there`,
    }
  }
  if (definition.routing.provider !== 'unleash') return {}
  const toggle = toggleName(definition)
  const admin = adminFor(options)
  if (!admin)
    return {
      warning: `${definition.name}: ${inForce}, but Unleash's toggle "${toggle}" was not disabled: no Unleash URL was given; disable it in Unleash, or re-run with --unleash-url (or UNLEASH_URL) and UNLEASH_ADMIN_TOKEN`,
    }
  try {
    await admin.disableToggle(toggle)
    return { said: `unleash: toggle "${toggle}" disabled in ${admin.environment}` }
  } catch (error) {
    const detail =
      error instanceof UnleashAdminFailed ? error.detail : error instanceof Error ? error.message : String(error)
    return {
      warning: `${definition.name}: ${inForce}, but Unleash's toggle "${toggle}" was not disabled: ${detail}; disable it in Unleash once it answers, or re-run: cutover rollback ${definition.name}`,
    }
  }
}
