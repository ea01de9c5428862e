/**
 * A second application process for the pooler tests: connects a Cutover (its
 * pool on $CUTOVER_CHILD_URL, LISTEN on $CUTOVER_CHILD_LISTEN_URL unless it is `-`: in the environment, since
 * ps shows a command line to every user) and prints one JSON
 * line per event: `{"ready"}`, `{"applied","phase","atMs"}` for each state
 * version it applies (Date.now() at that moment), `{"followMode"}` when its
 * way of following state changes. Exits when its stdin closes.
 */
import pg from 'pg'
import pino from 'pino'
import { Registry } from 'prom-client'
import { Cutover } from '../../src/cutover/cutover.js'

const url = process.env.CUTOVER_CHILD_URL
const listenUrl = process.env.CUTOVER_CHILD_LISTEN_URL
if (!url)
  throw new Error('usage: CUTOVER_CHILD_URL=<pool url> [CUTOVER_CHILD_LISTEN_URL=<listen url> | -] follower-child.ts')
const migration = 'orders_v2'
const say = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

const connected: { cutover?: Cutover } = {}
let printed = 0
function report(atMs: number): void {
  const state = connected.cutover?.state(migration)
  if (!state || state.version <= printed) return
  printed = state.version
  say({ applied: state.version, phase: state.phase, atMs })
}
// The Cutover logs each change it applies, synchronously, right after applying it.
const logger = pino({ level: 'info' }, { write: () => report(Date.now()) })

const pool = new pg.Pool({ connectionString: url, max: 2 })
pool.on('error', () => undefined)
const cutover = await Cutover.connect({
  pool,
  registry: new Registry(),
  logger,
  ...(listenUrl && listenUrl !== '-' ? { listenUrl } : {}),
})
connected.cutover = cutover
await cutover.migration(migration)
printed = cutover.state(migration)?.version ?? 0
say({ ready: printed, statementMode: cutover.statementMode })
let mode = ''
const timer = setInterval(() => {
  if (cutover.watcher.followMode !== mode) say({ followMode: (mode = cutover.watcher.followMode), atMs: Date.now() })
}, 20)

let closing = false
async function close(): Promise<void> {
  if (closing) return
  closing = true
  clearInterval(timer)
  await cutover.close().catch(() => undefined)
  await pool.end().catch(() => undefined)
  process.exit(0)
}
process.stdin.on('end', () => void close())
process.stdin.on('error', () => void close())
process.stdin.resume()
