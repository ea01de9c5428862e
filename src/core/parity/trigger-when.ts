/** Reads the WHEN condition out of a trigger definition as `pg_get_triggerdef` prints it. */
import { tokenize } from '../sql-tokens.js'

/** The WHEN condition inside a trigger definition, without its outer parentheses. */
export function triggerWhen(definition: string): string | null {
  const tokens = tokenize(definition)
  const each = tokens.findIndex(
    (tok, i) =>
      tok.kind === 'ident' &&
      !tok.quoted &&
      tok.value === 'for' &&
      tokens[i + 1]?.kind === 'ident' &&
      tokens[i + 1]?.text.toLowerCase() === 'each',
  )
  const when = tokens[each + 3]
  if (each < 0 || when?.kind !== 'ident' || when.quoted || when.value !== 'when' || tokens[each + 4]?.text !== '(') {
    return null
  }
  let depth = 0
  for (let i = each + 4; i < tokens.length; i++) {
    const text = tokens[i]?.text
    if (text === '(') depth++
    if (text === ')' && --depth === 0) {
      const open = tokens[each + 4] as { start: number }
      return definition.slice(open.start + 1, (tokens[i] as { start: number }).start)
    }
  }
  return null
}
