/**
 * Registers migration definitions in the control schema after checking them
 * against the live catalog. Every check runs before anything is written, in
 * one transaction, so a refusal leaves the control schema unchanged.
 */
import type pg from 'pg'
import type { MigrationDefinition } from '../core/definition.js'
import { definitionToJson } from '../core/definition-json.js'
import { ConfigInvalid } from '../core/errors.js'
import { displayName, quoteIdent, quoteQualified, type QualifiedName } from '../core/identifiers.js'
import { resolveMapping, type ResolvedMapping } from '../core/mapping.js'
import { compileOnly, isUniqueKey, readTableInfo, type TableInfo } from './catalog/catalog.js'
import { isCompileError, serverMessage } from '../db/pg-errors.js'
import { refuseWhenRetired } from './retire/retirement.js'
import type { PoolLike } from '../db/queryable.js'
import { withTransaction } from '../db/with-transaction.js'
import { controlSchema } from '../db/control-schema.js'
import { withSavepoint } from '../db/with-savepoint.js'

export interface RegisterOptions {
  readonly schema: string
  readonly actor: string
  readonly reason?: string
}

export interface CheckedMigration {
  readonly definition: MigrationDefinition
  readonly legacy: TableInfo
  readonly shadow: TableInfo
  readonly mapping: ResolvedMapping
  /** Set for a retired migration: where the legacy rows are now (the definition's legacy name may be the alias view). */
  readonly retiredLegacyTable?: QualifiedName
}

async function requireTable(client: pg.ClientBase, def: MigrationDefinition, side: 'legacy' | 'shadow'): Promise<TableInfo> {
  const info = await readTableInfo(client, def[side].table)
  if (!info) throw new ConfigInvalid(def.name, `${side} table ${displayName(def[side].table)} does not exist; create it or fix "${side}.table"`)
  return info
}

async function compileMapped(
  client: pg.ClientBase,
  def: MigrationDefinition,
  direction: 'forward' | 'backward',
  target: string,
  source: string,
  column: string,
  expression: string,
): Promise<void> {
  try {
    await withSavepoint(client, 'cutover_compile', () => compileOnly(client, `INSERT INTO ${target} (${quoteIdent(column)}) SELECT (${expression}) FROM ${source}`))
  } catch (error) {
    const what = def[direction][column] === undefined ? `same-name column "${column}"` : `"${direction}.${column}" (${def[direction][column]})`
    const reason = isCompileError(error) ? serverMessage(error) : `could not be compiled: ${serverMessage(error)}`
    throw new ConfigInvalid(def.name, `${what} does not fit ${direction === 'forward' ? 'shadow' : 'legacy'} column "${column}": ${reason}; fix "${direction}.${column}"`, { cause: error })
  }
}

/** Checks one definition against the catalog; throws ConfigInvalid naming what to fix. Writes nothing. */
export async function checkAgainstCatalog(client: pg.ClientBase, def: MigrationDefinition): Promise<CheckedMigration> {
  const legacy = await requireTable(client, def, 'legacy')
  const shadow = await requireTable(client, def, 'shadow')
  if (legacy.oid === shadow.oid) throw new ConfigInvalid(def.name, 'legacy and shadow name the same table; point "shadow.table" at the new table')
  for (const [side, info] of [['legacy', legacy], ['shadow', shadow]] as const) {
    const key = def[side].key
    const absent = key.find((k) => !info.columns.has(k))
    if (absent) throw new ConfigInvalid(def.name, `key column "${absent}" is not a column of ${side} table ${displayName(def[side].table)}; fix "${side}.key"`)
    if (!isUniqueKey(info, key)) {
      throw new ConfigInvalid(def.name, `${side} key (${key.join(', ')}) is not the primary key or a unique index of ${displayName(def[side].table)}; ` +
        `add one: CREATE UNIQUE INDEX ON ${quoteQualified(def[side].table)} (${key.map(quoteIdent).join(', ')})`)
    }
    const nullable = key.find((k) => !info.columns.get(k)?.isNotNull)
    if (nullable) throw new ConfigInvalid(def.name, `${side} key column "${nullable}" of ${displayName(def[side].table)} allows NULL; make it NOT NULL`)
  }
  const shape = (info: TableInfo) => [...info.columns.values()]
  const mapping = resolveMapping(def, shape(legacy), shape(shadow))
  const legacyTable = quoteQualified(def.legacy.table)
  const shadowTable = quoteQualified(def.shadow.table)
  for (const m of mapping.forward) await compileMapped(client, def, 'forward', shadowTable, legacyTable, m.column, m.expression)
  for (const m of mapping.backward) await compileMapped(client, def, 'backward', legacyTable, shadowTable, m.column, m.expression)
  return { definition: def, legacy, shadow, mapping }
}

/**
 * Validates and registers (or re-registers) definitions. All or nothing:
 * the first refusal throws and nothing is written.
 */
export async function registerMigrations(pool: PoolLike, definitions: readonly MigrationDefinition[], options: RegisterOptions): Promise<CheckedMigration[]> {
  const control = controlSchema(options.schema)
  const s = control.quoted
  return withTransaction(pool, async (client) => {
    const checked: CheckedMigration[] = []
    for (const def of definitions) {
      // A retired migration's legacy name may be its alias view: re-registering would point it there.
      await refuseWhenRetired(client, options.schema, def.name)
      const result = await checkAgainstCatalog(client, def)
      const { rows: owners } = await client.query<{ name: string }>(
        `SELECT name FROM ${s}.migrations WHERE shadow_table = $1::oid::regclass AND name <> $2`,
        [result.shadow.oid, def.name],
      )
      if (owners[0]) {
        throw new ConfigInvalid(def.name, `shadow table ${displayName(def.shadow.table)} already belongs to migration "${owners[0].name}"; each shadow table belongs to one migration`)
      }
      checked.push(result)
    }
    for (const { definition: def, legacy, shadow } of checked) {
      const { rows } = await client.query<{ inserted: boolean }>(
        `INSERT INTO ${s}.migrations (name, definition, legacy_table, shadow_table)
         VALUES ($1, $2, $3::oid::regclass, $4::oid::regclass)
         ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, legacy_table = EXCLUDED.legacy_table,
           shadow_table = EXCLUDED.shadow_table, updated_at = now()
         RETURNING (xmax = 0) AS inserted`,
        [def.name, JSON.stringify(definitionToJson(def)), legacy.oid, shadow.oid],
      )
      await client.query(`INSERT INTO ${s}.state (migration, updated_by) VALUES ($1, $2) ON CONFLICT (migration) DO NOTHING`, [def.name, options.actor])
      await control.insertEvent(client, {
        migration: def.name, actor: options.actor, kind: rows[0]?.inserted ? 'registered' : 're-registered', reason: options.reason,
        details: { definition: definitionToJson(def) },
      })
    }
    return checked
  })
}
