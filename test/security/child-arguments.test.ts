/**
 * A command line is readable by every user of the machine (ps,
 * /proc/PID/cmdline). The test helpers that start processes with a database
 * URL (the CLI, follower processes) hand it over in the environment, which only
 * the process's own user can read (issue 23, finding 8).
 */
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { Follower } from '../support/followers.js'
import { setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
const password = decodeURIComponent(new URL(db.url).password)

/** A process's command line as ps shows it, arguments joined by spaces. */
async function commandLine(pid: number | undefined): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\u0000', ' ')
}

describe.runIf(process.platform === 'linux' && password !== '')(
  'child processes of the tests',
  { timeout: 120_000 },
  () => {
    it('a follower process gets its URL in the environment, not on its command line', async () => {
      await setupOrders(db)
      const follower = await Follower.start(db.url)
      try {
        const cmdline = await commandLine(follower.child.pid)
        expect(cmdline).toContain('follower-child')
        expect(cmdline).not.toContain(`:${password}@`)
        expect(cmdline).not.toContain(db.url)
      } finally {
        await follower.stop()
      }
    })

    it('the CLI helper moves a --database-url that carries a password into DATABASE_URL', async () => {
      // status waits on a lock held here, so the CLI is certainly running when ps is read; it is then killed.
      const holder = await db.pool.connect()
      let seen = ''
      try {
        await holder.query('BEGIN')
        await holder.query('LOCK TABLE cutover.migrations IN ACCESS EXCLUSIVE MODE')
        const result = await runCli(
          ['status', '--json', '--database-url', db.url],
          {},
          {
            killWhen: async () => {
              seen = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
                .split('\n')
                .filter((line) => line.includes('bin/cutover.js status'))
                .join('\n')
              return seen !== ''
            },
          },
        )
        expect(result.code).toBeNull()
      } finally {
        await holder.query('ROLLBACK')
        holder.release()
      }
      expect(seen).toContain('bin/cutover.js status --json')
      expect(seen).not.toContain(`:${password}@`)
    })
  },
)
