/** Builds the gate callback of operator actions: reads the evidence (and, for complete, the schema-parity gaps) in the action's transaction and judges it. */
import type pg from 'pg'
import { checkGates } from '../core/gates.js'
import type { StatePlan } from '../core/phases.js'
import { readEvidence } from './evidence/evidence-sql.js'
import { readParityGaps } from './parity/schema-parity.js'
import { controlSchema } from '../db/control-schema.js'

export function migrationGate(schema: string, migration: string, options: { confirmed?: boolean } = {}) {
  return async (plan: StatePlan, client: pg.PoolClient): Promise<void> => {
    const { rows } = await client.query<{ soak: number | null }>(
      `SELECT (definition ->> 'soakSeconds')::float8 AS soak FROM ${controlSchema(schema).quoted}.migrations WHERE name = $1`, [migration])
    const evidence = await readEvidence(client, schema, migration, rows[0]?.soak ?? 3600)
    // Parity reads the catalog of both tables: only the gate of complete needs it.
    const parityGaps = plan.to.phase === 'complete' ? await readParityGaps(client, schema, migration) : undefined
    checkGates(plan, { ...evidence, parityGaps }, { migration, confirmed: options.confirmed ?? false })
  }
}
