/** Runs the doctor's checks on one dedicated client, and applies the SQL its findings carry (only when asked). */
import { ControlSchemaMissing, UnknownMigration } from '../../core/errors.js'
import { controlSchema } from '../../db/control-schema.js'
import type { PoolLike } from '../../db/queryable.js'
import { withTransaction } from '../../db/with-transaction.js'
import { GLOBAL_CHECKS, MIGRATION_CHECKS } from './checks.js'
import type { DoctorCheck, DoctorThresholds, Finding, GlobalDoctorCheck } from './finding.js'
import { controlSchemaExists, readMigrationFacts } from './migration-facts.js'
import { inTransaction } from '../../db/with-transaction.js'
import { setLockTimeout } from '../../db/set-lock-timeout.js'

const DOCTOR_LOCK_TIMEOUT_MS = 2000

export interface DoctorInput {
  readonly schema: string
  /** One migration; all registered ones when absent. */
  readonly migration?: string
  readonly thresholds: DoctorThresholds
  readonly globalChecks?: readonly GlobalDoctorCheck[]
  readonly migrationChecks?: readonly DoctorCheck[]
}

export interface DoctorReport {
  readonly migrations: readonly string[]
  readonly findings: readonly Finding[]
}

const sameFinding = (a: Finding, b: Finding): boolean =>
  a.migration === b.migration && a.code === b.code && a.message === b.message

/** Throws ControlSchemaMissing (exit 2) when there is no control schema, UnknownMigration for a name not registered. */
export async function runDoctor(pool: PoolLike, input: DoctorInput): Promise<DoctorReport> {
  const client = await pool.connect()
  /**
   * Each check runs in a transaction of its own with a lock_timeout SET LOCAL to it: a doctor never
   * waits long behind someone else's lock (a check that reads a table reports it instead), and the
   * setting never outlives the transaction on a server connection a pooler hands to someone else.
   */
  // A check that reported a lock wait left its transaction aborted: COMMIT then rolls back, as it should.
  const inCheckTransaction = <T>(work: () => Promise<T>): Promise<T> =>
    inTransaction(client, async () => {
      await setLockTimeout(client, DOCTOR_LOCK_TIMEOUT_MS)
      return work()
    })
  try {
    const facts = await inCheckTransaction(async () => {
      if (!(await controlSchemaExists(client, input.schema))) throw new ControlSchemaMissing(input.schema)
      return readMigrationFacts(client, input.schema, input.migration)
    })
    if (input.migration !== undefined && facts.length === 0) throw new UnknownMigration(input.migration)
    const findings: Finding[] = []
    for (const check of input.globalChecks ?? GLOBAL_CHECKS)
      findings.push(
        ...(await inCheckTransaction(() => check(client, { schema: input.schema, thresholds: input.thresholds }))),
      )
    for (const migration of facts) {
      for (const check of input.migrationChecks ?? MIGRATION_CHECKS) {
        // Two checks that load the definition (orphans, parity) find the same definition_invalid: it is one finding.
        for (const f of await inCheckTransaction(() =>
          check(client, { schema: input.schema, thresholds: input.thresholds, migration }),
        )) {
          if (!findings.some((g) => sameFinding(f, g))) findings.push(f)
        }
      }
    }
    return { migrations: facts.map((f) => f.name), findings }
  } finally {
    client.release()
  }
}

export interface ApplyOptions {
  readonly schema: string
  readonly actor: string
  readonly reason?: string
  /** The longest any statement waits for a lock (default 5 s); past it nothing is applied. */
  readonly lockTimeoutMs?: number
}

/**
 * Runs every statement the findings carry, in one transaction under a lock
 * timeout, and records a `doctor_apply` event per migration with what ran;
 * returns the statements in the order they ran.
 */
export async function applyFindings(
  pool: PoolLike,
  findings: readonly Finding[],
  options: ApplyOptions,
): Promise<string[]> {
  const statements = findings.flatMap((f) => f.applySql ?? [])
  if (statements.length === 0) return []
  await withTransaction(pool, async (client) => {
    await setLockTimeout(client, options.lockTimeoutMs ?? 5000)
    for (const statement of statements) await client.query(statement)
    const byMigration = new Map<string, { codes: string[]; statements: string[] }>()
    for (const f of findings) {
      if (!f.migration || !f.applySql?.length) continue
      const entry = byMigration.get(f.migration) ?? { codes: [], statements: [] }
      entry.codes.push(f.code)
      entry.statements.push(...f.applySql)
      byMigration.set(f.migration, entry)
    }
    for (const [migration, details] of byMigration) {
      await controlSchema(options.schema).insertEvent(client, {
        migration,
        actor: options.actor,
        kind: 'doctor_apply',
        reason: options.reason,
        details,
      })
    }
  })
  return statements
}
