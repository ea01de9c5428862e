/** The one SAVEPOINT … RELEASE / ROLLBACK TO sequence: a statement that may fail without aborting the caller's transaction. */

/** Something that runs a statement: a pg client, or the DAL's executor. */
export interface SavepointTarget {
  query(text: string, values: []): Promise<unknown>
}

/**
 * Runs `fn` inside savepoint `name`. When it throws, the transaction is
 * rolled back to the savepoint (so it stays usable) and the error is rethrown.
 */
export async function withSavepoint<T>(db: SavepointTarget, name: string, fn: () => Promise<T>): Promise<T> {
  await db.query(`SAVEPOINT ${name}`, [])
  try {
    const result = await fn()
    await db.query(`RELEASE SAVEPOINT ${name}`, [])
    return result
  } catch (error) {
    await db.query(`ROLLBACK TO SAVEPOINT ${name}`, [])
    throw error
  }
}
