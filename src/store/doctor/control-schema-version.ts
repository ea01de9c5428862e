/** Global check: the control schema's applied files against the sql/ files this code ships. */
import { readSqlFiles } from '../control-schema/sql-files.js'
import type { Finding, GlobalDoctorCheck } from './finding.js'
import { controlSchema } from '../../db/control-schema.js'

export function controlSchemaVersionCheck(sqlDir?: string): GlobalDoctorCheck {
  return async (db, { schema }) => {
    const files = await readSqlFiles(sqlDir)
    const { rows: exists } = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [
      `${controlSchema(schema).quoted}.schema_versions`,
    ])
    const applied = exists[0]?.ok
      ? (
          await db.query<{ version: number; file: string; checksum: string }>(
            `SELECT version, file, checksum FROM ${controlSchema(schema).quoted}.schema_versions ORDER BY version`,
          )
        ).rows
      : []
    const findings: Finding[] = []
    const appliedByVersion = new Map(applied.map((a) => [a.version, a]))
    const missing = files.filter((f) => !appliedByVersion.has(f.version))
    if (missing.length > 0) {
      findings.push({
        migration: null,
        severity: 'error',
        code: 'control_schema_behind',
        message: `control schema "${schema}" lacks ${missing.length} file(s) this code needs: ${missing.map((f) => f.file).join(', ')}`,
        command: 'cutover init',
      })
    }
    const changed = files.filter((f) => {
      const a = appliedByVersion.get(f.version)
      return a !== undefined && a.checksum !== f.checksum
    })
    if (changed.length > 0) {
      findings.push({
        migration: null,
        severity: 'error',
        code: 'control_schema_changed',
        message: `control-schema file(s) ${changed.map((f) => f.file).join(', ')} differ from what was applied to "${schema}"`,
        command: 'restore the shipped sql/ files (a change belongs in a new numbered file)',
      })
    }
    const shipped = new Set(files.map((f) => f.version))
    const unknown = applied.filter((a) => !shipped.has(a.version))
    if (unknown.length > 0) {
      findings.push({
        migration: null,
        severity: 'warning',
        code: 'control_schema_ahead',
        message: `control schema "${schema}" has file(s) this code does not ship: ${unknown.map((a) => a.file).join(', ')}; this cutover is older than the one that ran init`,
        command: 'upgrade cutover to the version that ran cutover init',
      })
    }
    return findings
  }
}
