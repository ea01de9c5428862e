/**
 * A lexical guard on the SQL expressions of a mapping: one expression, which
 * cannot close its own parentheses, end the statement or comment out the rest.
 * The database then compiles it (without running it) at registration.
 */

/** Returns why `expression` is refused, or undefined when it may be compiled. */
export function expressionProblem(expression: string): string | undefined {
  if (expression.trim().length === 0) return 'is empty'
  if (expression.includes('\u0000')) return 'contains a NUL character'
  // Backslashes only matter in E'' strings, whose escapes this guard does not
  // model; refusing them keeps the guard's idea of a string the server's.
  if (expression.includes('\\')) return 'contains a backslash'
  let depth = 0
  let i = 0
  while (i < expression.length) {
    const c = expression[i] as string
    const next = expression[i + 1]
    if (c === "'" || c === '"') {
      const end = closingQuote(expression, i, c)
      if (end < 0) return `has an unterminated ${c === "'" ? 'string' : 'quoted identifier'}`
      i = end + 1
      continue
    }
    // Dollar-quote tags may hold letters, digits, _ and non-ASCII: `$$`, `$a1$`, `$é$`.
    if (c === '$' && /^\$(?:[A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/.test(expression.slice(i))) {
      return 'uses dollar quoting, which a mapping expression does not need'
    }
    if (c === ';') return 'contains ";" (one expression only)'
    if (c === '-' && next === '-') return 'contains a "--" comment'
    if (c === '/' && next === '*') return 'contains a "/*" comment'
    if (c === '(') depth++
    if (c === ')') {
      depth--
      if (depth < 0) return 'closes a parenthesis it did not open'
    }
    i++
  }
  if (depth !== 0) return 'leaves a parenthesis open'
  return undefined
}

function closingQuote(text: string, start: number, quote: string): number {
  let i = start + 1
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) {
        i += 2
        continue
      }
      return i
    }
    i++
  }
  return -1
}
