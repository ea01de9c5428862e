/**
 * Key reads (`get`) as read plans: every statement's text and prepared name
 * built once per migration, each call only brings its key values.
 */
import type { Side } from '../core/phases.js'
import type { Logger } from '../logger.js'
import { recordDivergenceSql } from '../store/divergences/divergence-sql.js'
import { comparableRow, differingColumns, judge, type SideRow } from '../shape/compare-rows.js'
import { statementName, type SqlExecutor } from './executor.js'
import type { MigrationShape } from '../shape/migration-shape.js'
import type { ReadPlan, ReadStatement, Row } from './read-pipeline.js'
import { comparedRead, inlineComparedReadText, keyEqualText, legacyRead, shadowRead } from './read-statement.js'
import { COMPARE_COLUMN, SIDE_COLUMN } from '../shape/compared-sides.js'

interface Named {
  readonly text: string
  readonly name: string
}

function named(text: string): Named {
  return { text, name: statementName(text) }
}

/** A key value as text, the form divergence rows store (never a lossy JSON number). */
function keyText(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value)
}

export interface KeyReadContext {
  readonly shape: MigrationShape
  readonly schema: string
  readonly logger: Logger
}

/** One migration's key read statements. */
export class KeyReads {
  readonly c: KeyReadContext
  readonly legacy: Named
  readonly shadow: Named
  readonly equal: Named
  readonly inline: Named
  readonly detail: Named

  constructor(context: KeyReadContext) {
    this.c = context
    const shape = context.shape
    this.legacy = named(legacyRead(shape, []).text)
    this.shadow = named(shadowRead(shape, []).text)
    this.equal = named(keyEqualText(shape))
    this.inline = named(inlineComparedReadText(shape))
    this.detail = named(comparedRead(shape, []).text)
  }

  plan(key: readonly unknown[]): ReadPlan<Row | undefined> {
    return new KeyReadPlan(this, key)
  }
}

class KeyReadPlan implements ReadPlan<Row | undefined> {
  constructor(
    readonly reads: KeyReads,
    readonly key: readonly unknown[],
  ) {}

  read(side: Side): ReadStatement {
    const s = side === 'legacy' ? this.reads.legacy : this.reads.shadow
    return { text: s.text, name: s.name, values: this.key }
  }

  equal(): ReadStatement {
    return { text: this.reads.equal.text, name: this.reads.equal.name, values: this.key }
  }

  inline(): ReadStatement {
    return { text: this.reads.inline.text, name: this.reads.inline.name, values: this.key }
  }

  result(rows: Row[]): Row | undefined {
    return rows[0]
  }

  /** Both sides with their comparable projections, hashed and recorded as a divergence when they differ. */
  async record(executor: SqlExecutor): Promise<boolean> {
    const { shape, schema, logger } = this.reads.c
    const migration = shape.definition.name
    const rows = await executor.query<Row>(this.reads.detail.text, this.key, this.reads.detail.name)
    const sides: Partial<Record<Side, SideRow>> = {}
    for (const raw of rows) {
      const { [SIDE_COLUMN]: side, [COMPARE_COLUMN]: comparable, ...row } = raw
      sides[side === 'shadow' ? 'shadow' : 'legacy'] = { row, comparable: comparableRow(shape, comparable) }
    }
    const verdict = judge(sides.legacy, sides.shadow)
    if (verdict.result === 'match' || !verdict.kind) return false
    const keyObject = Object.fromEntries(shape.legacyKey.map((k, i) => [k, keyText(this.key[i])]))
    const columns =
      sides.legacy && sides.shadow ? differingColumns(sides.legacy.comparable, sides.shadow.comparable) : []
    const record = recordDivergenceSql(schema, {
      migration,
      key: keyObject,
      source: 'read',
      kind: verdict.kind,
      ...(columns.length > 0 ? { detail: `differs in: ${columns.join(', ')}` } : {}),
      legacyHash: verdict.legacyHash,
      shadowHash: verdict.shadowHash,
      legacyRow: sides.legacy?.comparable ?? null,
      shadowRow: sides.shadow?.comparable ?? null,
    })
    const inserted = await executor.query<{ inserted: boolean }>(record.text, record.values)
    if (inserted[0]?.inserted)
      logger.warn({ migration, key: keyObject, kind: verdict.kind, columns }, 'read comparison found a divergence')
    return true
  }
}
