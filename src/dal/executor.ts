/** The one port through which the DAL runs SQL: a Kysely instance or transaction, or a pg pool or client. */
import { CompiledQuery, type Kysely } from 'kysely'
import type pg from 'pg'

export interface SqlExecutor {
  /** Runs one statement with `$n` parameters and returns its rows. */
  query<R = Record<string, unknown>>(text: string, values: readonly unknown[]): Promise<R[]>
}

/** What callers may pass as a database or a transaction they hold. */
export type Database = Kysely<any> | pg.Pool | pg.PoolClient | pg.Client // eslint-disable-line @typescript-eslint/no-explicit-any

function isKysely(db: unknown): db is Kysely<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return typeof db === 'object' && db !== null && 'executeQuery' in db && 'selectFrom' in db
}

export function executorFor(db: Database): SqlExecutor {
  if (isKysely(db)) {
    return {
      async query<R>(text: string, values: readonly unknown[]) {
        const result = await db.executeQuery<R>(CompiledQuery.raw(text, [...values]))
        return result.rows as R[]
      },
    }
  }
  const pgDb = db as pg.Pool
  return {
    async query<R>(text: string, values: readonly unknown[]) {
      const result = await pgDb.query(text, [...values])
      return result.rows as R[]
    },
  }
}
