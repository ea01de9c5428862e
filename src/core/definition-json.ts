/** Converts a validated definition back to the config file's JSON shape (how it is stored and shown). */
import type { MigrationDefinition } from './definition.js'
import type { QualifiedName } from './identifiers.js'

function tableText(table: QualifiedName): string {
  const part = (s: string): string => (/^[^."]+$/.test(s) ? s : `"${s.replaceAll('"', '""')}"`)
  return `${part(table.schema)}.${part(table.name)}`
}

/** The definition in config shape; `parseMigration` reads it back to an equal definition. */
export function definitionToJson(def: MigrationDefinition): Record<string, unknown> {
  return {
    name: def.name,
    legacy: { table: tableText(def.legacy.table), key: def.legacy.key },
    shadow: { table: tableText(def.shadow.table), key: def.shadow.key },
    forward: def.forward,
    backward: def.backward,
    compare: def.compare,
    onSecondaryError: def.onSecondaryError,
    routing: def.routing,
    compareSample: def.compareSample,
    shadowReadSample: def.shadowReadSample,
    soakSeconds: def.soakSeconds,
    guardrails: def.guardrails,
    retireSoakSeconds: def.retireSoakSeconds,
    ...(def.session === undefined ? {} : { session: def.session }),
    ...(def.group === undefined ? {} : { group: def.group }),
    ...(def.trustedSchemas.length === 0 ? {} : { trustedSchemas: def.trustedSchemas }),
  }
}
