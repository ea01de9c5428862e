/** Carries legacy expressions and column lists over to the shadow through the mapping's plain copies. */
import { translateExpression, type Translated } from '../sql-tokens.js'
import type { ParityInput } from './parity-gap.js'

/** A legacy column the mapping does not copy as a plain column. */
export interface Untranslatable {
  readonly untranslatable: string
}

export const isUntranslatable = (x: object): x is Untranslatable => 'untranslatable' in x

export class Translator {
  readonly legacyName: string
  constructor(readonly input: ParityInput) {
    this.legacyName = input.legacy.table.name
  }

  expression(text: string, qualifiers?: readonly string[]): Translated | Untranslatable {
    return translateExpression(text, {
      columns: this.input.columns,
      knownColumns: new Set(this.input.legacy.columns),
      ...(qualifiers ? { qualifiers } : {}),
      tableName: this.legacyName,
    })
  }

  columnList(columns: readonly string[]): string[] | Untranslatable {
    const out: string[] = []
    for (const c of columns) {
      const target = this.input.columns.get(c)
      if (target === undefined) return { untranslatable: c }
      out.push(target)
    }
    return out
  }
}
