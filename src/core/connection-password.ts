/** Whether a connection string carries a password, which a command line would show to every user of the machine (`ps`). */

/** True when `connectionString` holds a password: in the URL's user part or as a `password` query parameter. */
export function carriesPassword(connectionString: string): boolean {
  try {
    const url = new URL(connectionString)
    return url.password !== '' || url.searchParams.has('password')
  } catch {
    // Not a URL the tool would accept: judge the text, so a malformed one with a password is still flagged.
    return /:\/\/[^/@\s]*:[^@\s]*@|[?&]password=/i.test(connectionString)
  }
}
