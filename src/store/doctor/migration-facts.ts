/** Reads the registered migrations the doctor checks, with their state and both tables' oids. */
import type pg from 'pg'
import type { MigrationFacts } from './finding.js'
import { controlSchema } from '../../db/control-schema.js'

export async function readMigrationFacts(
  db: pg.ClientBase,
  schema: string,
  migration?: string,
): Promise<MigrationFacts[]> {
  const s = controlSchema(schema).quoted
  const { rows } = await db.query<{
    name: string
    phase: string
    read_percent: number
    version: string
    legacy_oid: number
    shadow_oid: number
    legacy_table: string
    shadow_table: string
  }>(
    `SELECT m.name, st.phase, st.read_percent, st.version::text AS version,
            m.legacy_table::oid::int AS legacy_oid, m.shadow_table::oid::int AS shadow_oid,
            m.legacy_table::text AS legacy_table, m.shadow_table::text AS shadow_table
       FROM ${s}.migrations m JOIN ${s}.state st ON st.migration = m.name
      WHERE $1::text IS NULL OR m.name = $1 OR m.definition ->> 'group' = $1
      ORDER BY m.name`,
    [migration ?? null],
  )
  return rows.map((r) => ({
    name: r.name,
    phase: r.phase,
    readPercent: r.read_percent,
    version: Number(r.version),
    legacyOid: r.legacy_oid,
    shadowOid: r.shadow_oid,
    legacyTable: r.legacy_table,
    shadowTable: r.shadow_table,
  }))
}

/** Whether the control schema exists at all (its migrations table). */
export async function controlSchemaExists(db: pg.ClientBase, schema: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [
    `${controlSchema(schema).quoted}.migrations`,
  ])
  return rows[0]?.ok === true
}
