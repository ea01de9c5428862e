/** The port every source of the read percentage implements: which side serves one routing key. */
import type { MigrationState, Side } from '../core/phases.js'

export interface PercentageProvider {
  /**
   * The side that serves a read of `routingKey` for `migration` in `state`.
   * The control-schema phase is checked first: outside `ramp` the answer is the
   * phase's side whatever the provider says, so a rollback wins at once. Never
   * throws; when the provider does not know (not ready, no toggle, an error),
   * the answer is legacy, never the shadow.
   */
  route(migration: string, state: MigrationState, routingKey: string): Side
  /** Stops whatever the provider runs in the background (polling, metrics); safe to call twice. */
  close(): Promise<void>
}
