/**
 * Reads a password file (`~/.pgpass`, libpq's format): lines of
 * `hostname:port:database:username:password`, `*` matching anything in the
 * first four fields, `\` escaping `:` and `\`, `#` starting a comment line.
 * The first line that matches wins.
 */

/** Where a connection goes, as the password file's fields name it. */
export interface PgpassTarget {
  readonly host: string
  readonly port: string
  readonly database: string
  readonly user: string
}

/** A line's fields, its escapes undone; undefined for a comment, a blank line or one with fewer than five fields. */
function fields(line: string): string[] | undefined {
  if (line.startsWith('#') || line.trim() === '') return undefined
  const out: string[] = []
  let field = ''
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string
    if (c === '\\' && i + 1 < line.length) {
      field += line[++i]
    } else if (c === ':' && out.length < 4) {
      out.push(field)
      field = ''
    } else {
      field += c
    }
  }
  out.push(field)
  return out.length === 5 ? out : undefined
}

/** The password the file gives for `target`, or undefined when no line matches. */
export function pgpassPassword(text: string, target: PgpassTarget): string | undefined {
  const wanted = [target.host, target.port, target.database, target.user]
  for (const line of text.split(/\r?\n/)) {
    const f = fields(line)
    if (f && wanted.every((value, i) => f[i] === '*' || f[i] === value)) return f[4]
  }
  return undefined
}
