/** The failures of `cutover precheck`, grouped into classes: one per (step, column or constraint, SQLSTATE, message with the value left out). */

/**
 * How a row fails: the forward mapping into the shadow, the backward mapping back into the legacy types, the round
 * trip (what the application reads back, `backward(forward(row))`, differs from the legacy row in a column), or a
 * unique key of the shadow two rows map onto.
 */
export type FailureKind = 'forward' | 'backward' | 'round_trip' | 'collision'

/** A round-trip example: the legacy value and the value read back, as PostgreSQL renders them (null for NULL). */
export interface RoundTripValues {
  readonly legacy: string | null
  readonly roundTrip: string | null
}

/** One legacy row the mapping cannot carry, as precheck_mapping_rows() reports it. */
export interface RowFailure {
  /** The legacy key, one text value per key column. */
  readonly key: readonly string[]
  readonly kind: FailureKind
  readonly sqlstate: string
  /** PostgreSQL's message for this row. */
  readonly message: string
  /** The message with the row's own value left out (`invalid input syntax for type uuid: "…"`). */
  readonly pattern: string
  readonly column: string | null
  readonly constraint: string | null
  /** A round-trip failure's two values. */
  readonly values?: RoundTripValues
}

/** One class of failure: every row that fails the same way. */
export interface FailureClass {
  readonly kind: FailureKind
  readonly sqlstate: string
  readonly column: string | null
  readonly constraint: string | null
  readonly pattern: string
  /** PostgreSQL's message for the first row of the class. */
  readonly message: string
  /** Legacy rows in the class. */
  count: number
  /** Up to the example limit of legacy keys, in the order found (key order). */
  readonly examples: (readonly string[])[]
  /** For a round-trip class, each example's two values (in the order of `examples`). */
  readonly exampleValues?: RoundTripValues[]
  /** A query that lists every failing key of the class. */
  query: string
}

function classId(f: Pick<RowFailure, 'kind' | 'sqlstate' | 'column' | 'constraint' | 'pattern'>): string {
  return JSON.stringify([f.kind, f.sqlstate, f.column, f.constraint, f.pattern])
}

/** Collects failures into classes; each class keeps its count and its first `exampleLimit` keys. */
export class FailureClasses {
  readonly #byId = new Map<string, FailureClass>()
  constructor(readonly exampleLimit: number) {}

  /** Counts `rows` rows (default the one failure) into the failure's class and keeps its key as an example while there is room. */
  add(failure: RowFailure, query: (c: FailureClass) => string, rows = 1): void {
    const id = classId(failure)
    let found = this.#byId.get(id)
    if (!found) {
      found = {
        kind: failure.kind,
        sqlstate: failure.sqlstate,
        column: failure.column,
        constraint: failure.constraint,
        pattern: failure.pattern,
        message: failure.message,
        count: 0,
        examples: [],
        query: '',
        ...(failure.kind === 'round_trip' ? { exampleValues: [] } : {}),
      }
      found.query = query(found)
      this.#byId.set(id, found)
    }
    found.count += rows
    if (found.examples.length < this.exampleLimit) {
      found.examples.push(failure.key)
      if (failure.values) found.exampleValues?.push(failure.values)
    }
  }

  /** Every class, the largest first. */
  list(): FailureClass[] {
    return [...this.#byId.values()].sort((a, b) => b.count - a.count)
  }
}

/** `forward customer 22P02 invalid input syntax for type uuid: "…"`: a class in a few words. */
export function describeClass(
  c: Pick<FailureClass, 'kind' | 'sqlstate' | 'column' | 'constraint' | 'pattern'>,
): string {
  const where = [c.column && `column ${c.column}`, c.constraint && `constraint ${c.constraint}`]
    .filter(Boolean)
    .join(', ')
  return `${c.kind}${where ? ` (${where})` : ''}${c.sqlstate ? ` ${c.sqlstate}` : ''} ${c.pattern}`
}

/** How many classes a one-line summary names; the rest are counted. */
const CLASSES_NAMED = 3

/** `3 class(es): forward 22P02 invalid input syntax for type uuid: "…": 5 row(s); …`. */
export function summariseClasses(
  classes: readonly Pick<FailureClass, 'kind' | 'sqlstate' | 'column' | 'constraint' | 'pattern' | 'count'>[],
): string {
  const named = classes
    .slice(0, CLASSES_NAMED)
    .map((c) => `${describeClass(c)}: ${c.count} row(s)`)
    .join('; ')
  return `${named}${classes.length > CLASSES_NAMED ? `; and ${classes.length - CLASSES_NAMED} more class(es)` : ''}`
}
