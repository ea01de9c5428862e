/**
 * One-row writes' statements built once per operation, targets, returned
 * shape and column signature: the text, its prepared name, and where each
 * parameter comes from in a request. A call then only picks its values.
 * The text is built from a probe request whose values are slots, so it is
 * exactly the text writeStatement builds for the real request.
 */
import type { Statement } from '../db/statement.js'
import { writeStatement, type Returning, type WriteRequest, type WriteTargets } from './dual-write-statement.js'
import { statementName } from './executor.js'
import type { MigrationShape } from '../shape/migration-shape.js'

/** A parameter taken from the request. */
class Slot {
  constructor(readonly pick: (request: WriteRequest) => unknown) {}
}

interface Entry {
  readonly text: string
  readonly name: string
  readonly params: readonly unknown[]
}

export interface NamedStatement extends Statement {
  readonly name: string
}

/** Beyond this many signatures (callers writing ever different column sets), statements are built per call. */
const MAX_ENTRIES = 1000

function probeRow(row: Readonly<Record<string, unknown>>): Record<string, Slot> {
  const out: Record<string, Slot> = {}
  for (const column of Object.keys(row)) out[column] = new Slot((r) => r.rows?.[0]?.[column])
  return out
}

function probe(request: WriteRequest): WriteRequest {
  return {
    op: request.op,
    ...(request.rows ? { rows: request.rows.map(probeRow) } : {}),
    ...(request.key ? { key: request.key.map((_, i) => new Slot((r) => r.key?.[i])) } : {}),
    ...(request.patch
      ? { patch: Object.fromEntries(Object.keys(request.patch).map((c) => [c, new Slot((r) => r.patch?.[c])])) }
      : {}),
  }
}

function signature(request: WriteRequest, targets: WriteTargets, returning: Returning): string {
  const columns = request.rows?.[0]
    ? Object.keys(request.rows[0]).join(',')
    : request.patch
      ? Object.keys(request.patch).join(',')
      : ''
  return `${request.op}|${targets.authority}|${targets.secondary ?? ''}|${returning}|${request.key?.length ?? 0}|${columns}`
}

export class WriteStatementCache {
  readonly #shape: MigrationShape
  readonly #controlSchema: string
  readonly #entries = new Map<string, Entry>()

  readonly #roundTripCheck: boolean

  constructor(shape: MigrationShape, controlSchema: string, roundTripCheck = true) {
    this.#shape = shape
    this.#controlSchema = controlSchema
    this.#roundTripCheck = roundTripCheck
  }

  /** The statement of a write of at most one row (several rows: built per call, not cached). */
  statement(targets: WriteTargets, request: WriteRequest, returning: Returning): NamedStatement {
    if ((request.rows?.length ?? 0) > 1) return this.#uncached(targets, request, returning)
    const key = signature(request, targets, returning)
    let entry = this.#entries.get(key)
    if (!entry) {
      if (this.#entries.size >= MAX_ENTRIES) return this.#uncached(targets, request, returning)
      const built = writeStatement(this.#shape, targets, probe(request), {
        controlSchema: this.#controlSchema,
        returning,
        roundTripCheck: this.#roundTripCheck,
      })
      entry = { text: built.text, name: statementName(built.text), params: built.values }
      this.#entries.set(key, entry)
    }
    const values = new Array<unknown>(entry.params.length)
    for (let i = 0; i < values.length; i++) {
      const param = entry.params[i]
      values[i] = param instanceof Slot ? param.pick(request) : param
    }
    return { text: entry.text, name: entry.name, values }
  }

  #uncached(targets: WriteTargets, request: WriteRequest, returning: Returning): NamedStatement {
    const built = writeStatement(this.#shape, targets, request, {
      controlSchema: this.#controlSchema,
      returning,
      roundTripCheck: this.#roundTripCheck,
    })
    return { ...built, name: statementName(built.text) }
  }
}
