/**
 * Check 8: for each foreign key of another table that references the legacy
 * table, the child rows whose referenced key has no row in the shadow (the
 * legacy columns computed from the shadow through the `backward` mapping).
 * Those rows would break the constraint once it points at the shadow.
 */
import type pg from 'pg'
import { CutoverError } from '../../core/errors.js'
import { quoteIdent, quoteQualified } from '../../core/identifiers.js'
import { loadMigration } from '../definitions/definitions.js'
import { isLockWait, serverMessage } from '../../db/pg-errors.js'
import type { DoctorCheck, Finding } from './finding.js'
import { definitionInvalidFinding } from './definition-invalid.js'

interface ForeignKey {
  name: string
  child_schema: string
  child_table: string
  child_columns: string[]
  parent_columns: string[]
}

async function referencingKeys(db: pg.ClientBase, legacyOid: number, shadowOid: number): Promise<ForeignKey[]> {
  const { rows } = await db.query<ForeignKey>(
    `SELECT c.conname::text AS name, n.nspname::text AS child_schema, t.relname::text AS child_table,
            array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS child_columns,
            array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS parent_columns
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE c.contype = 'f' AND c.confrelid = $1 AND c.conrelid NOT IN ($1, $2)
      ORDER BY n.nspname, t.relname, c.conname`,
    [legacyOid, shadowOid],
  )
  return rows
}

/** The query listing the orphans of one foreign key (MATCH SIMPLE: a row with a null key column is never an orphan). */
export function orphanQuery(fk: ForeignKey, shadowTable: string, backward: ReadonlyMap<string, string>): string {
  const child = `${quoteIdent(fk.child_schema)}.${quoteIdent(fk.child_table)}`
  const notNull = fk.child_columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ')
  // The backward expressions name shadow columns unqualified; inside the subquery they resolve to the shadow.
  const match = fk.parent_columns
    .map((p, i) => `(${backward.get(p) ?? quoteIdent(p)}) = c.${quoteIdent(fk.child_columns[i] as string)}`)
    .join(' AND ')
  return `SELECT c.* FROM ${child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${shadowTable} WHERE ${match})`
}

export const orphansCheck: DoctorCheck = async (db, { schema, migration }) => {
  const keys = await referencingKeys(db, migration.legacyOid, migration.shadowOid)
  if (keys.length === 0) return []
  let checked
  try {
    checked = await loadMigration(db, schema, migration.name)
  } catch (error) {
    // Reading the tables' columns opens them (pg_get_expr): behind an ACCESS EXCLUSIVE lock this is a lock wait, not a bad definition.
    if (isLockWait(error)) {
      return [
        {
          migration: migration.name,
          severity: 'warning',
          code: 'orphans_unchecked',
          message: `could not read ${migration.legacyTable} and ${migration.shadowTable} to count the rows of ${keys.length} referencing foreign key(s): ${serverMessage(error)}; a lock blocks it (see long_transaction)`,
          command: `cutover doctor ${migration.name}`,
        },
      ]
    }
    if (!(error instanceof CutoverError)) throw error
    return [definitionInvalidFinding(migration, error.message)]
  }
  const backward = new Map(checked.mapping.backward.map((m) => [m.column, m.expression]))
  const shadowTable = quoteQualified(checked.definition.shadow.table)
  const late = migration.phase === 'shadow_primary' || migration.phase === 'complete'
  const findings: Finding[] = []
  for (const fk of keys) {
    const query = orphanQuery(fk, shadowTable, backward)
    let n: number
    try {
      // In a savepoint: the doctor's transaction goes on to the next foreign key after a lock wait.
      await db.query('SAVEPOINT cutover_orphans')
      const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${query}) o`)
      await db.query('RELEASE SAVEPOINT cutover_orphans')
      n = Number(rows[0]?.n ?? 0)
    } catch (error) {
      await db.query('ROLLBACK TO SAVEPOINT cutover_orphans').catch(() => undefined)
      // The doctor's transaction has a lock_timeout: a count stuck behind a lock queue is reported, not waited on.
      if (!isLockWait(error)) throw error
      findings.push({
        migration: migration.name,
        severity: 'warning',
        code: 'orphans_unchecked',
        message: `could not count the rows of ${fk.child_schema}.${fk.child_table} (foreign key ${fk.name}): ${serverMessage(error)}; a lock blocks it (see long_transaction)`,
        command: `cutover doctor ${migration.name}`,
        query,
      })
      continue
    }
    if (n === 0) continue
    findings.push({
      migration: migration.name,
      severity: late ? 'error' : 'warning',
      code: 'orphans',
      message: `${n} row(s) of ${fk.child_schema}.${fk.child_table} (foreign key ${fk.name} on ${fk.child_columns.join(', ')}) reference legacy rows missing from ${migration.shadowTable}; list them with: ${query}`,
      command: `cutover verify ${migration.name} && cutover repair ${migration.name}`,
      query,
    })
  }
  return findings
}
