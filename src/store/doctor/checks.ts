/** The doctor's checks, in the order their findings are printed. Adding a check is one line here. */
import { bypassNetStaleCheck, bypassWritersCheck } from './bypass-writers.js'
import { controlSchemaVersionCheck } from './control-schema-version.js'
import { definitionsBehindCheck } from './definitions-behind.js'
import { expiredLeasesCheck } from './expired-leases.js'
import { groupMembersCheck } from './group-members.js'
import { keySourceCheck } from './key-source.js'
import type { DoctorCheck, GlobalDoctorCheck } from './finding.js'
import { listenersBehindCheck, listenersPollingCheck, staleListenersCheck } from './listeners.js'
import { longTransactionsCheck } from './long-transactions.js'
import { openDivergencesCheck } from './open-divergences.js'
import { orphansCheck } from './orphans.js'
import { precheckCheck } from './precheck-findings.js'
import { schemaParityCheck } from './parity-gaps.js'
import { shadowKeyDuplicatesCheck } from './shadow-key-duplicates.js'
import { stalledJobsCheck } from './stalled-jobs.js'
import { staleEvidenceCheck } from './stale-evidence.js'

export const GLOBAL_CHECKS: readonly GlobalDoctorCheck[] = [
  controlSchemaVersionCheck(),
  staleListenersCheck,
  listenersPollingCheck,
]

export const MIGRATION_CHECKS: readonly DoctorCheck[] = [
  groupMembersCheck,
  staleEvidenceCheck,
  precheckCheck,
  expiredLeasesCheck,
  stalledJobsCheck,
  listenersBehindCheck,
  definitionsBehindCheck,
  openDivergencesCheck,
  bypassWritersCheck,
  bypassNetStaleCheck,
  longTransactionsCheck,
  orphansCheck,
  schemaParityCheck,
  keySourceCheck,
  shadowKeyDuplicatesCheck,
]
