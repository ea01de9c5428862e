// A second process: rolls back a migration through the library and prints the result as JSON.
import pg from 'pg'
import { rollback } from '../../src/actions/rollback.js'

// The URL through the environment (CUTOVER_CHILD_URL): ps shows a command line, password and all, to every user.
const url = process.env.CUTOVER_CHILD_URL
const [migration] = process.argv.slice(2)
const pool = new pg.Pool({ connectionString: url, max: 2 })
try {
  const result = await rollback(pool, {
    schema: 'cutover',
    migration: migration ?? 'orders_v2',
    actor: 'child',
    reason: 'propagation test',
  })
  process.stdout.write(JSON.stringify(result))
} finally {
  await pool.end()
}
