/**
 * The DAL's row types, from the application's own Kysely database type `DB`
 * and its legacy table `TB`: what `insert`, `update`, `get` and `select` are
 * checked against. Types only; nothing here exists at run time.
 *
 * Untyped (no `DB`, or no table named) every row is a {@link Row}, as before.
 */
import type { Compilable, Insertable, Selectable, SelectQueryBuilder, Updateable } from 'kysely'
import type { Row } from './read-pipeline.js'
import type { SelectBuilder } from './select-statement.js'

/** True when no database type (`any`) or no legacy table (`never`) was given: the untyped form. */
export type IsUntyped<DB, TB> = 0 extends 1 & DB ? true : [TB] extends [never] ? true : false

/** The legacy table's name in `DB` (a key of the application's Kysely database type). */
export type TableName<DB> = keyof DB & string

/** A row as the DAL returns it: Kysely's `Selectable` of the legacy table. */
export type SelectedRow<DB, TB extends TableName<DB>> = IsUntyped<DB, TB> extends true ? Row : Selectable<DB[TB]>

/** A row `insert`, `insertMany` and `upsert` take: Kysely's `Insertable` of the legacy table. */
export type InsertRow<DB, TB extends TableName<DB>> = IsUntyped<DB, TB> extends true ? Row : Insertable<DB[TB]>

/** The columns `update` changes: Kysely's `Updateable` of the legacy table. */
export type UpdatePatch<DB, TB extends TableName<DB>> = IsUntyped<DB, TB> extends true ? Row : Updateable<DB[TB]>

/** What `returning: 'key'` resolves to: the key columns, which the registered definition names, so some of the row. */
export type KeyColumns<DB, TB extends TableName<DB>> =
  IsUntyped<DB, TB> extends true ? Row : Partial<Selectable<DB[TB]>>

/**
 * A key: the bare value of a one-column key, or an object of the legacy key
 * columns (typed: only the legacy table's columns, with their types).
 */
export type TableKey<DB, TB extends TableName<DB>> =
  | (IsUntyped<DB, TB> extends true ? Readonly<Record<string, unknown>> : Readonly<Partial<Selectable<DB[TB]>>>)
  | string
  | number
  | bigint

/** The `select` builder: a `selectFrom` on the legacy table, typed as Kysely's `SelectQueryBuilder<DB, TB, {}>`. */
export type TableSelectBuilder<R, DB, TB extends TableName<DB>> =
  IsUntyped<DB, TB> extends true
    ? SelectBuilder<R>
    : // eslint-disable-next-line @typescript-eslint/no-empty-object-type
      (from: SelectQueryBuilder<DB, TB, {}>) => Compilable<R>
