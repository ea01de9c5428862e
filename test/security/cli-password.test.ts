/**
 * A password on the command line is readable by every user of the machine
 * (`ps`, /proc/PID/cmdline). The CLI says in --help how to keep it off (PGPASSWORD,
 * ~/.pgpass, DATABASE_URL), honours each, and warns in one stderr line, never
 * quoting the password, when --database-url carries one (issue 23, finding 8).
 */
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const PASSWORD = 'argv-Canary-91x'
const WARNING =
  /^cutover: warning: --database-url carries a password, which any user of this machine can read \(ps\); leave it out of the URL and set PGPASSWORD or use ~\/\.pgpass, or pass the whole URL in DATABASE_URL$/
let withPassword: URL
let withoutPassword: URL

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(`CREATE ROLE argv_operator LOGIN PASSWORD '${PASSWORD}'; GRANT USAGE ON SCHEMA cutover TO argv_operator;
    GRANT SELECT ON ALL TABLES IN SCHEMA cutover TO argv_operator`)
  withPassword = new URL(db.url)
  withPassword.username = 'argv_operator'
  withPassword.password = PASSWORD
  withoutPassword = new URL(withPassword)
  withoutPassword.password = ''
})

describe('a password and the command line', { timeout: 120_000 }, () => {
  it('--help says to keep the password off the command line, naming PGPASSWORD, ~/.pgpass and DATABASE_URL', async () => {
    const help = await runCli(['status', '--help'])
    expect(help.code).toBe(0)
    const option = help.stdout.replace(/\s+/g, ' ')
    expect(option).toMatch(
      /--database-url postgres:\/\/user@host:port\/db \(default: \$DATABASE_URL\); keep the password off the command line, where ps shows it: PGPASSWORD, ~\/\.pgpass, or the whole URL in DATABASE_URL/,
    )
    expect(option).not.toContain('user:password@')
  })

  it('a --database-url carrying a password works, with one warning line on stderr naming the alternatives and never the password', async () => {
    const result = await runCli(
      ['status', '--database-url', withPassword.toString()],
      {},
      { passwordInArguments: true },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr.trim()).toMatch(WARNING)
    expect(result.stdout + result.stderr).not.toContain(PASSWORD)
  })

  it('a --database-url=URL carrying a password in its query is warned about too, with --json keeping stdout one document', async () => {
    const inQuery = new URL(withoutPassword)
    inQuery.searchParams.set('password', PASSWORD)
    const result = await runCli(
      ['status', '--json', `--database-url=${inQuery.toString()}`],
      {},
      { passwordInArguments: true },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr.trim()).toMatch(WARNING)
    expect(result.json()).toHaveProperty('migrations')
    expect(result.stdout + result.stderr).not.toContain(PASSWORD)
  })

  it('the password in PGPASSWORD, in ~/.pgpass or the whole URL in DATABASE_URL each connect, with no warning', async () => {
    const viaEnvironment = await runCli(['status'], { DATABASE_URL: withPassword.toString() })
    const viaPgpassword = await runCli(['status', '--database-url', withoutPassword.toString()], {
      PGPASSWORD: PASSWORD,
    })
    const home = await tempDir('cutover-pgpass-')
    await writeFile(
      join(home, '.pgpass'),
      `${withoutPassword.hostname}:${withoutPassword.port}:${db.name}:argv_operator:${PASSWORD}\n`,
    )
    await chmod(join(home, '.pgpass'), 0o600)
    const viaPgpass = await runCli(['status', '--database-url', withoutPassword.toString()], { HOME: home })
    for (const result of [viaEnvironment, viaPgpassword, viaPgpass]) {
      expect(result.code, result.stderr).toBe(0)
      // Nothing on stderr: not even pg 8's notice that it will stop reading ~/.pgpass itself in pg 9 (cutover reads it).
      expect(result.stderr).toBe('')
    }
  })

  it('a --database-url without a password prints no warning', async () => {
    const result = await runCli(
      ['status', '--database-url', withoutPassword.toString()],
      { PGPASSWORD: PASSWORD },
      { passwordInArguments: true },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toBe('')
  })
})
