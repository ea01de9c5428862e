/**
 * How a migration's DAL picks the side of a read: its percentage provider
 * (the loaded definition's, so a reload applies at once) on the bucket of its
 * group or its own name, feeding ramp reads to the process's routing sample.
 */
import type { RoutingSample } from '../core/routing-sample.js'
import type { DalContext } from '../dal/dal-context.js'
import type { LoadedDefinition } from './loaded-definitions.js'

export function migrationRoute(
  name: string,
  loaded: LoadedDefinition,
  routingSample: RoutingSample,
): DalContext['route'] {
  return (state, routingKey) => {
    // A group's members share its bucket (its name), so a routing key reads every member from one side.
    const routingId = loaded.shape.definition.group ?? name
    // Ramp reads feed the sample `cutover ramp` uses to say how many keys a change moves.
    if (state.phase === 'ramp') routingSample.record(routingId, routingKey)
    return loaded.provider.route(routingId, state, routingKey)
  }
}
