/**
 * Fills in the password of a connection string that has none from where libpq
 * keeps it: PGPASSWORD (left to pg), else the password file (PGPASSFILE, or
 * ~/.pgpass, ignored unless only its owner can read it, as libpq does). The
 * CLI passes the result to pg in memory only; it is never printed or logged.
 * (pg 8 reads ~/.pgpass itself but says it will stop in pg 9, on stderr.)
 */
import { readFileSync, statSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
import { carriesPassword } from '../core/connection-password.js'
import { pgpassPassword } from '../core/pgpass.js'

function osUser(): string {
  try {
    return userInfo().username
  } catch {
    return ''
  }
}

/** The password file's text, or undefined when there is none or others may read it. */
function passwordFile(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.PGPASSFILE || join(homedir(), '.pgpass')
  try {
    const stats = statSync(file)
    if (!stats.isFile() || (process.platform !== 'win32' && (stats.mode & 0o077) !== 0)) return undefined
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** `connectionString` with the password file's password for it when it carries none and PGPASSWORD is unset; else unchanged. */
export function withStoredPassword(connectionString: string, env: NodeJS.ProcessEnv = process.env): string {
  if (carriesPassword(connectionString) || env.PGPASSWORD !== undefined) return connectionString
  let url: URL
  try {
    url = new URL(connectionString)
  } catch {
    return connectionString
  }
  const text = passwordFile(env)
  if (text === undefined) return connectionString
  const user = decodeURIComponent(url.username) || env.PGUSER || osUser()
  const password = pgpassPassword(text, {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || env.PGHOST || 'localhost',
    port: url.port || env.PGPORT || '5432',
    database: decodeURIComponent(url.pathname.slice(1)) || env.PGDATABASE || user,
    user,
  })
  if (password === undefined) return connectionString
  if (!url.username) url.username = user
  url.password = password
  return url.toString()
}
