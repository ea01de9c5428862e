/** The built-in provider: the percentage stored in the control schema, bucketed like Unleash's flexibleRollout. */
import type { MigrationState, Side } from '../core/phases.js'
import { routeRead } from '../core/routing.js'
import type { PercentageProvider } from './percentage-provider.js'

export class ControlProvider implements PercentageProvider {
  route(migration: string, state: MigrationState, routingKey: string): Side {
    return routeRead(migration, state, routingKey)
  }

  async close(): Promise<void> {}
}

/** Stateless, so one instance serves every migration and every Cutover. */
export const controlProvider = new ControlProvider()
