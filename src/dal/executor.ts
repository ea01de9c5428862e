/** The one port through which the DAL runs SQL: a Kysely instance or transaction, or a pg pool or client. */
import { createHash } from 'node:crypto'
import { CompiledQuery, type Kysely } from 'kysely'
import type pg from 'pg'
import { isStalePlan } from '../db/pg-errors.js'

export interface SqlExecutor {
  /**
   * Runs one statement with `$n` parameters and returns its rows. `name`, when
   * given, is the statement's stable prepared name, computed once by the caller
   * (see {@link statementName}); otherwise it is looked up by the text.
   */
  query<R = Record<string, unknown>>(text: string, values: readonly unknown[], name?: string): Promise<R[]>
}

/** What callers may pass as a database or a transaction they hold. */
export type Database = Kysely<any> | pg.Pool | pg.PoolClient | pg.Client // eslint-disable-line @typescript-eslint/no-explicit-any

function isKysely(db: unknown): db is Kysely<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return typeof db === 'object' && db !== null && 'executeQuery' in db && 'selectFrom' in db
}

const names = new Map<string, string>()

/**
 * A stable statement name per SQL text. The DAL's texts are few and stable
 * (values are always parameters), and its CTE statements are long: preparing
 * each once per connection saves the server a parse and plan on every call,
 * which the benchmarks showed to be most of the DAL's overhead.
 */
export function statementName(text: string): string {
  let name = names.get(text)
  if (!name) {
    name = `cutover_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`
    if (names.size > 10_000) names.clear()
    names.set(text, name)
  }
  return name
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
    async query<R>(text: string, values: readonly unknown[], name?: string) {
      if (values.length === 0) return (await pgDb.query(text)).rows as R[]
      try {
        return (await pgDb.query({ name: name ?? statementName(text), text, values: [...values] })).rows as R[]
      } catch (error) {
        // A table changed shape under a prepared statement: run this one unprepared.
        if (!isStalePlan(error)) throw error
        return (await pgDb.query(text, [...values])).rows as R[]
      }
    },
  }
}
