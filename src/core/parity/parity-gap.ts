/** The shape of schema parity: the kinds of object it checks, what it is given, and one thing the shadow lacks. */
import type { TableFacts } from './facts.js'

export const PARITY_ITEMS = [
  'unique_index',
  'check',
  'foreign_key_out',
  'foreign_key_in',
  'sequence',
  'trigger',
  'grant',
  'policy',
  'rls',
] as const
/** One kind of object the shadow must have; the order above is the order fixes are applied in. */
export type ParityItem = (typeof PARITY_ITEMS)[number]

/** One thing the shadow lacks. */
export interface ParityGap {
  readonly item: ParityItem
  /** What is missing, as an operator names it (a role, a constraint, a column). */
  readonly object: string
  readonly description: string
  /** The exact SQL that adds it, or null when a person must write it. */
  readonly fixSql: string | null
}

export interface ParityInput {
  readonly legacy: TableFacts
  readonly shadow: TableFacts
  /** Legacy column → the shadow column it is copied to unchanged (a plain copy or rename). */
  readonly columns: ReadonlyMap<string, string>
  /**
   * The migration's key on each side (legacy.key[i] is carried to shadow.key[i], even when not a plain
   * copy).
   */
  readonly keys?: { readonly legacy: readonly string[]; readonly shadow: readonly string[] }
}
