/**
 * Whether the DAL sends its statements as named prepared statements (parsed
 * and planned once per server connection) or unnamed (parsed on every call),
 * shared by every executor of one `Cutover`.
 */
import type pg from 'pg'
import type { Logger } from '../logger.js'
import { withClient } from '../db/with-client.js'

/**
 * `named`: prepared statements (fastest, needs a direct connection or a pooler that keeps them).
 * `unnamed`: works through any pooler. `auto` (the default): named unless a pooler is detected at
 * connect, or a prepared statement goes missing (42P05/26000) later; then unnamed for good.
 */
export type StatementMode = 'named' | 'unnamed' | 'auto'

export const STATEMENT_MODES: readonly StatementMode[] = ['named', 'unnamed', 'auto']

/** Default bound on the named statements kept prepared per server connection (least recently used are deallocated). */
export const DEFAULT_MAX_PREPARED = 100

export class StatementPolicy {
  #isNamed: boolean
  readonly mode: StatementMode
  readonly maxPrepared: number
  readonly #logger: Logger | undefined

  constructor(mode: StatementMode = 'auto', options: { readonly logger?: Logger; readonly maxPrepared?: number } = {}) {
    this.mode = mode
    this.#isNamed = mode !== 'unnamed'
    this.maxPrepared = Math.max(1, options.maxPrepared ?? DEFAULT_MAX_PREPARED)
    this.#logger = options.logger
  }

  /** True while statements with values go out as named prepared statements. */
  get isNamed(): boolean {
    return this.#isNamed
  }

  /**
   * In `auto`, switches this policy to unnamed statements for good and says so
   * once; returns whether the caller may retry its statement unnamed (never in `named`).
   */
  fallBackToUnnamed(reason: string): boolean {
    if (this.mode !== 'auto') return false
    if (this.#isNamed) {
      this.#isNamed = false
      this.#logger?.warn({ statementMode: 'unnamed', reason }, `statements are sent unnamed from now on: ${reason}`)
    }
    return true
  }

  /**
   * In `auto`, checks once whether `pool` reaches PostgreSQL through a pooler:
   * a pooler makes up the backend key data it sends, so the process id the
   * connection announced differs from `pg_backend_pid()`. Then statements go unnamed.
   */
  async detectPooler(pool: pg.Pool): Promise<void> {
    if (this.mode !== 'auto' || !this.#isNamed) return
    const isPooled = await withClient(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      return rows[0]?.pid !== (client as unknown as { processID?: number }).processID
    })
    if (isPooled)
      this.fallBackToUnnamed(
        'the connection goes through a pooler (its announced process id is not its backend pid), which does not keep prepared statements',
      )
  }
}
