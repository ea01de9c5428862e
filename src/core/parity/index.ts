/**
 * Schema parity: what the shadow table lacks that the legacy table has and
 * the application relies on (grants, row-level security, policies, triggers,
 * foreign keys both ways, checks, owned sequences, unique keys), each with the
 * SQL that would add it. Objects are matched by meaning (columns translated
 * through the mapping), never by name. One file per item; this module is what
 * callers import.
 */
import { checkGaps } from './check-gaps.js'
import { foreignKeyInGaps } from './foreign-key-in-gaps.js'
import { foreignKeyOutGaps } from './foreign-key-out-gaps.js'
import { grantGaps } from './grant-gaps.js'
import { PARITY_ITEMS, type ParityGap, type ParityInput } from './parity-gap.js'
import { policyGaps } from './policy-gaps.js'
import { rlsGaps } from './rls-gaps.js'
import { sequenceGaps } from './sequence-gaps.js'
import { sequenceGrantGaps } from './sequence-grant-gaps.js'
import { Translator } from './translator.js'
import { triggerGaps } from './trigger-gaps.js'
import { uniqueIndexGaps } from './unique-index-gaps.js'

export { PARITY_ITEMS, type ParityGap, type ParityInput, type ParityItem } from './parity-gap.js'
export { triggerWhen } from './trigger-when.js'

/**
 * Everything the shadow lacks, in the order fixes are applied (unique keys before the foreign keys that need them,
 * policies before RLS).
 */
export function parityGaps(input: ParityInput): ParityGap[] {
  const t = new Translator(input)
  const gaps = [
    ...uniqueIndexGaps(input, t),
    ...checkGaps(input, t),
    ...foreignKeyOutGaps(input, t),
    ...foreignKeyInGaps(input, t),
    ...sequenceGaps(input),
    ...triggerGaps(input, t),
    ...grantGaps(input),
    ...sequenceGrantGaps(input),
    ...policyGaps(input, t),
    ...rlsGaps(input),
  ]
  return gaps.sort((a, b) => PARITY_ITEMS.indexOf(a.item) - PARITY_ITEMS.indexOf(b.item))
}
