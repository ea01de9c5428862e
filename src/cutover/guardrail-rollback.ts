/**
 * What a guardrail does when a bound is crossed: the rollback action, with
 * trigger `guardrail` and this process as its actor. The one place the DAL's
 * process calls an operator action, so `dal/` itself knows none.
 */
import { hostname } from 'node:os'
import type pg from 'pg'
import { rollback } from '../actions/rollback.js'
import type { GuardrailOptions } from '../dal/guardrail.js'
import type { Logger } from '../logger.js'

export function guardrailRollback(
  pool: pg.Pool,
  schema: string,
  migration: string,
  logger: Logger,
): GuardrailOptions['rollback'] {
  return async (reason, details) => {
    const result = await rollback(pool, {
      schema,
      migration,
      actor: `guardrail@${hostname()}:${process.pid}`,
      reason,
      trigger: 'guardrail',
      details,
      ackTimeoutMs: 0,
      unleash: false,
    })
    if (result.bypassNet) logger.warn({ migration }, result.bypassNet)
    return result
  }
}
