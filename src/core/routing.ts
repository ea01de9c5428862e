/** Decides which side serves a read: the phase's side, or in `ramp` the sticky bucket of the routing key. */
import { isInRollout } from './bucket.js'
import { phasePolicy, type MigrationState, type Side } from './phases.js'

/**
 * In `ramp` at p %, a routing key reads from the shadow when its Unleash
 * flexibleRollout bucket (group id: the migration's name) is at most p, so a
 * key on the shadow at p stays there at every higher p, and at 100 % every key
 * does. Unknown state is `off`, which reads legacy.
 */
export function routeRead(migration: string, state: MigrationState, routingKey: string): Side {
  const policy = phasePolicy(state.phase)
  if (policy.reads !== 'ramp') return policy.reads
  return isInRollout(routingKey, migration, state.readPercent) ? 'shadow' : 'legacy'
}

/** The routing key of a row key when the caller gives none: the key's values joined with ":". */
export function defaultRoutingKey(keyValues: readonly unknown[]): string {
  return keyValues.map(String).join(':')
}
