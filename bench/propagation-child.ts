/**
 * A follower process for `rollback_propagation`: connects a Cutover to the
 * bench database and prints `applied <version> <phase> <percent> <epoch ms>`
 * for each state of the migration it applies; exits when its stdin closes.
 * Usage: CUTOVER_CHILD_URL=<database url> [CUTOVER_CHILD_LISTEN_URL=<listen url>] propagation-child.ts <schema> <migration>
 * (the listen URL: a direct connection for LISTEN when the database URL goes through a pooler; both in the
 * environment, since a command line, password and all, is visible to every user in ps).
 */
import pg from 'pg'
import pino from 'pino'
import { Registry } from 'prom-client'
import { Cutover } from '../src/cutover/cutover.js'

const url = process.env.CUTOVER_CHILD_URL
const listenUrl = process.env.CUTOVER_CHILD_LISTEN_URL || undefined
const [schema, migration] = process.argv.slice(2)
if (!url || !schema || !migration)
  throw new Error('usage: CUTOVER_CHILD_URL=<database url> propagation-child.ts <schema> <migration>')

// Set once connected; the logger may be called before that.
const connected: { cutover?: Cutover } = {}
let printed = 0

/** Prints the migration's state if it is newer than the last printed, stamped with `atMs`. */
function report(atMs: number): void {
  const state = connected.cutover?.state(migration as string)
  if (!state || state.version <= printed) return
  printed = state.version
  process.stdout.write(`applied ${state.version} ${state.phase} ${state.readPercent} ${atMs}\n`)
}

// The Cutover logs each change it applies at `info`, synchronously, right
// after applying it: a line reaching this stream marks the moment. The state
// itself is read through the public cutover.state(); any other line finds no
// newer state and prints nothing.
const logger = pino({ level: 'info' }, { write: () => report(Date.now()) })

const pool = new pg.Pool({ connectionString: url, max: 2 })
pool.on('error', () => undefined)
const cutover = await Cutover.connect({
  pool,
  schema,
  registry: new Registry(),
  logger,
  ...(listenUrl ? { listenUrl } : {}),
})
connected.cutover = cutover
await cutover.migration(migration)
printed = cutover.state(migration)?.version ?? 0
process.stdout.write(`ready ${printed}\n`)

let closing = false
async function close(): Promise<void> {
  if (closing) return
  closing = true
  await cutover.close().catch(() => undefined)
  await pool.end().catch(() => undefined)
  process.exit(0)
}
process.stdin.on('end', () => void close())
process.stdin.on('error', () => void close())
process.stdin.resume()
