/** The DAL's share of a migration's session settings: ` AND <InitPlan setting them>`, built once per shape. */
import { sessionSettingsFilter } from '../core/session-settings.js'
import type { MigrationShape } from './migration-shape.js'

const conditions = new WeakMap<MigrationShape, string>()

/**
 * What a statement's final `WHERE` adds so that the migration's session settings hold for the whole statement (and
 * the rest of its transaction): the one-time filter is evaluated before the first row is pulled from below, so before
 * any mapping expression under it. Empty for a definition without settings (registered before they were recorded).
 */
export function settingsCondition(shape: MigrationShape): string {
  let condition = conditions.get(shape)
  if (condition === undefined) {
    const filter = sessionSettingsFilter(shape.definition.session ?? {})
    condition = filter === '' ? '' : ` AND ${filter}`
    conditions.set(shape, condition)
  }
  return condition
}
