import { describe, expect, it } from 'vitest'
import { ConfirmationRequired } from './errors.js'
import { checkConfirmation } from './gates.js'
import { planAdvance, UNKNOWN_STATE } from './phases.js'

const shadowPrimary = {
  ...UNKNOWN_STATE,
  phase: 'shadow_primary' as const,
  readPercent: 100,
  authority: 'shadow' as const,
}

describe('the confirmation of complete', () => {
  it('is needed whatever force says, and names the command that gives it', () => {
    const plan = planAdvance('orders_v2', shadowPrimary)
    expect(() => checkConfirmation(plan, { migration: 'orders_v2', confirmed: false, forced: true })).toThrow(
      ConfirmationRequired,
    )
    expect(() => checkConfirmation(plan, { migration: 'orders_v2', confirmed: false, forced: true })).toThrow(
      /run: cutover advance orders_v2 --to complete --confirm --force \(from code: advance\(pool, \{ …, to: 'complete', confirm: true \}\)\)$/,
    )
    expect(() => checkConfirmation(plan, { migration: 'orders_v2', confirmed: false, forced: false })).toThrow(
      /--confirm \(from code/,
    )
    expect(() => checkConfirmation(plan, { migration: 'orders_v2', confirmed: true, forced: false })).not.toThrow()
  })

  it('is not asked for any other step', () => {
    const toRamp = planAdvance('orders_v2', { ...UNKNOWN_STATE, phase: 'shadow_read' })
    expect(() => checkConfirmation(toRamp, { migration: 'orders_v2', confirmed: false, forced: false })).not.toThrow()
  })
})
