/** The one port through which the DAL runs SQL: a Kysely instance or transaction, or a pg pool or client. */
import { createHash } from 'node:crypto'
import { CompiledQuery, type Kysely } from 'kysely'
import type pg from 'pg'
import { quoteIdent } from '../core/identifiers.js'
import { isConnectionLost, isPreparedStatementLost, isStalePlan } from '../db/pg-errors.js'
import { withClient } from '../db/with-client.js'
import { StatementPolicy } from './statement-policy.js'

export interface SqlExecutor {
  /**
   * Runs one statement with `$n` parameters and returns its rows. `name`, when
   * given, is the statement's stable prepared name, computed once by the caller
   * (see {@link statementName}); otherwise it is looked up by the text.
   */
  query<R = Record<string, unknown>>(text: string, values: readonly unknown[], name?: string): Promise<R[]>
}

/** What callers may pass as a database or a transaction they hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Database = Kysely<any> | pg.Pool | pg.PoolClient | pg.Client

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function isKysely(db: unknown): db is Kysely<any> {
  return typeof db === 'object' && db !== null && 'executeQuery' in db && 'selectFrom' in db
}

/** A pg pool (hands out clients) rather than one client. */
export function isPgPool(db: unknown): db is pg.Pool {
  return typeof db === 'object' && db !== null && 'totalCount' in db && 'connect' in db && !('release' in db)
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

/** Per client, the names this module prepared on it, least recently used first. */
const preparedOn = new WeakMap<pg.ClientBase, Map<string, true>>()

/** pg's own record of the statements it parsed on a connection (it skips Parse for those). */
interface PgConnectionRecord {
  parsedStatements: Record<string, string | undefined>
}

/**
 * Runs `text` as the named statement `name` on `client`, keeping at most
 * `max` of this module's statements prepared on it: the least recently used
 * is deallocated first (one round trip, only when a new text pushes it out).
 */
async function namedQuery<R>(
  client: pg.ClientBase,
  max: number,
  name: string,
  text: string,
  values: readonly unknown[],
): Promise<R[]> {
  let lru = preparedOn.get(client)
  if (!lru) {
    lru = new Map()
    preparedOn.set(client, lru)
  }
  if (lru.delete(name)) {
    lru.set(name, true)
  } else {
    lru.set(name, true)
    if (lru.size > max) {
      const oldest = lru.keys().next().value as string
      await client.query(`DEALLOCATE ${quoteIdent(oldest)}`)
      lru.delete(oldest)
      // Deallocated on the server, so pg must parse it again if it comes back.
      delete (client as unknown as { connection: PgConnectionRecord }).connection.parsedStatements[oldest]
    }
  }
  return (await client.query({ name, text, values: [...values] })).rows as R[]
}

const defaultPolicy = new StatementPolicy('auto')

/** A statement mode for a pool: named statements on its clients, bounded per client, unnamed through a pooler. */
export function executorFor(db: Database, policy: StatementPolicy = defaultPolicy): SqlExecutor {
  if (isKysely(db)) {
    return {
      async query<R>(text: string, values: readonly unknown[]) {
        const result = await db.executeQuery<R>(CompiledQuery.raw(text, [...values]))
        return result.rows as R[]
      },
    }
  }
  if (isPgPool(db)) return poolExecutor(db, policy)
  const client = db as pg.ClientBase
  return {
    async query<R>(text: string, values: readonly unknown[], name?: string) {
      if (values.length === 0 && name === undefined) return (await client.query(text)).rows as R[]
      if (!policy.isNamed) return (await client.query(text, [...values])).rows as R[]
      try {
        return await namedQuery<R>(client, policy.maxPrepared, name ?? statementName(text), text, values)
      } catch (error) {
        // Inside the caller's transaction nothing is retried: an error has aborted it already.
        if (isPreparedStatementLost(error))
          policy.fallBackToUnnamed(
            `prepared statement ${name ?? statementName(text)} went missing on a caller's connection`,
          )
        throw error
      }
    },
  }
}

function poolExecutor(pool: pg.Pool, policy: StatementPolicy): SqlExecutor {
  // A broken connection, or one whose prepared statements pg no longer knows truly, is discarded; any other error
  // (a constraint the caller's write broke, say) leaves the connection as good as it was.
  const discardOnError = (error: unknown): boolean => isConnectionLost(error) || isPreparedStatementLost(error)
  return {
    async query<R>(text: string, values: readonly unknown[], name?: string) {
      if ((values.length === 0 && name === undefined) || !policy.isNamed)
        return (await pool.query(text, [...values])).rows as R[]
      const statement = name ?? statementName(text)
      try {
        // withClient listens for the checked-out client's 'error' event: a server restart mid-query must fail this
        // query, never crash the application's process.
        return await withClient(
          pool,
          async (client) => {
            try {
              return await namedQuery<R>(client, policy.maxPrepared, statement, text, values)
            } catch (error) {
              // A table changed shape under a prepared statement: run this one unprepared.
              if (!isStalePlan(error)) throw error
              return (await client.query(text, [...values])).rows as R[]
            }
          },
          { discardOnError },
        )
      } catch (error) {
        if (!isPreparedStatementLost(error)) throw error
        if (
          !policy.fallBackToUnnamed(
            `prepared statement ${statement} went missing or already existed on a server connection, as behind a transaction pooler`,
          )
        )
          throw error
        return (await pool.query(text, [...values])).rows as R[]
      }
    },
  }
}
