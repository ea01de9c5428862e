/** The one warning line for a password given on the command line, where `ps` shows it to every user of the machine. */
import { carriesPassword } from '../core/connection-password.js'

/** The `--database-url` value of a command line (`--database-url URL` or `--database-url=URL`), if any. */
function databaseUrlArgument(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--database-url') return argv[i + 1]
    if (arg.startsWith('--database-url=')) return arg.slice('--database-url='.length)
  }
  return undefined
}

/** The warning to print on stderr when the process's own command line carries a password; never the password itself. */
export function passwordOnCommandLine(argv: readonly string[]): string | undefined {
  const url = databaseUrlArgument(argv)
  if (url === undefined || !carriesPassword(url)) return undefined
  return (
    'cutover: warning: --database-url carries a password, which any user of this machine can read (ps); ' +
    'leave it out of the URL and set PGPASSWORD or use ~/.pgpass, or pass the whole URL in DATABASE_URL'
  )
}
