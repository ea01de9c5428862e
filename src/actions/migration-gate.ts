/** Judges a plan's evidence gates: reads the evidence (and, for complete, the schema-parity gaps) in the action's transaction. */
import type pg from 'pg'
import { checkGates } from '../core/gates.js'
import type { StatePlan } from '../core/phases.js'
import { readSoakSeconds } from '../store/definitions/definitions.js'
import { readEvidence } from '../store/evidence/evidence-sql.js'
import { readParityGaps } from '../store/parity/schema-parity.js'

/** Throws GateRefused when the plan lacks its evidence; returns quietly otherwise. */
export async function checkEvidenceGates(
  client: pg.ClientBase,
  schema: string,
  migration: string,
  plan: StatePlan,
): Promise<void> {
  const evidence = await readEvidence(
    client,
    schema,
    migration,
    (await readSoakSeconds(client, schema, migration)) ?? 3600,
  )
  // Parity reads the catalog of both tables: only the gate of complete needs it.
  const parityGaps = plan.to.phase === 'complete' ? await readParityGaps(client, schema, migration) : undefined
  checkGates(plan, { ...evidence, parityGaps }, { migration })
}
