/** What the catalog says about one table, as far as schema parity needs it (read by src/store/parity/parity-sql.ts). */
import type { QualifiedName } from '../identifiers.js'

/** One privilege of one role; `grantee` null is PUBLIC; `column` null is the whole table. */
export interface GrantFact {
  readonly grantee: string | null
  readonly privilege: string
  readonly isGrantable: boolean
  readonly column: string | null
}

export interface PolicyFact {
  readonly name: string
  readonly command: 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE'
  readonly isPermissive: boolean
  /** Role names; null is PUBLIC. */
  readonly roles: readonly (string | null)[]
  /** `USING` and `WITH CHECK` as the catalog prints them. */
  readonly using: string | null
  readonly withCheck: string | null
}

export interface TriggerFact {
  readonly name: string
  readonly timing: 'BEFORE' | 'AFTER' | 'INSTEAD OF'
  readonly events: readonly ('INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE')[]
  /** `UPDATE OF` columns. */
  readonly updateColumns: readonly string[]
  readonly isRow: boolean
  /** The WHEN condition (over `new.x` / `old.x`), as the catalog prints it. */
  readonly when: string | null
  readonly functionOid: number
  /** The function's qualified name as SQL. */
  readonly functionName: string
  /** The function's body (`prosrc`), searched for legacy column names. */
  readonly functionSource: string
  readonly args: readonly string[]
  /** False when the trigger is disabled (`ALTER TABLE … DISABLE TRIGGER`). */
  readonly isEnabled: boolean
  readonly oldTable: string | null
  readonly newTable: string | null
  readonly isConstraint: boolean
  readonly isDeferrable: boolean
  readonly isInitiallyDeferred: boolean
  /** `FROM` table of a constraint trigger, as SQL. */
  readonly constraintTable: string | null
  /**
   * Cutover's own (a bypass net's): its function lives in a cutover control schema. Parity neither asks for it on
   * the shadow nor counts it as the shadow's equivalent of anything.
   */
  readonly isCutoverOwned: boolean
}

export interface CheckFact {
  readonly name: string
  readonly expression: string
  readonly isValidated: boolean
  readonly isNoInherit: boolean
}

export type ForeignKeyAction = 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT'

export interface ForeignKeyFact {
  readonly name: string
  /** The referencing table. */
  readonly tableOid: number
  readonly table: QualifiedName
  readonly columns: readonly string[]
  readonly refTableOid: number
  readonly refTable: QualifiedName
  readonly refColumns: readonly string[]
  readonly onUpdate: ForeignKeyAction
  readonly onDelete: ForeignKeyAction
  readonly match: 'SIMPLE' | 'FULL' | 'PARTIAL'
  readonly isDeferrable: boolean
  readonly isInitiallyDeferred: boolean
  /** Every constraint name of the referencing table (a new name must not clash). */
  readonly tableConstraintNames: readonly string[]
}

export interface UniqueIndexFact {
  readonly name: string
  readonly isPrimary: boolean
  /** Backs a PRIMARY KEY or UNIQUE constraint (not only an index). */
  readonly isConstraint: boolean
  /** Each key column or expression, as the catalog prints it. */
  readonly keys: readonly string[]
  readonly predicate: string | null
  readonly isNullsNotDistinct: boolean
  readonly method: string
}

export interface SequenceFact {
  /** The column that owns the sequence. */
  readonly column: string
  readonly sequence: QualifiedName
  readonly isIdentity: boolean
  /** The last value handed out, as a decimal string; null when never used or not readable. */
  readonly lastValue: string | null
  /** Whether the reading role may read the sequence's value. */
  readonly isReadable: boolean
  readonly grants: readonly GrantFact[]
}

export interface TableFacts {
  readonly oid: number
  readonly table: QualifiedName
  readonly columns: readonly string[]
  readonly rowSecurity: boolean
  readonly forceRowSecurity: boolean
  readonly grants: readonly GrantFact[]
  readonly policies: readonly PolicyFact[]
  readonly triggers: readonly TriggerFact[]
  readonly checks: readonly CheckFact[]
  readonly foreignKeysOut: readonly ForeignKeyFact[]
  /** Foreign keys of other tables that reference this one. */
  readonly foreignKeysIn: readonly ForeignKeyFact[]
  readonly uniqueIndexes: readonly UniqueIndexFact[]
  readonly sequences: readonly SequenceFact[]
  readonly constraintNames: readonly string[]
}
