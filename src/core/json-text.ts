/**
 * Exact work on JSON text as PostgreSQL prints it, without JSON.parse (which
 * turns every number into a JavaScript double and so loses digits beyond 2^53
 * and the 17th significant one).
 *
 * jsonb's text output is canonical but for numbers: keys are sorted and
 * unique, spacing is fixed, and a number keeps the scale it was written with
 * (`1.0` and `1` are equal jsonb values but print differently). So a jsonb
 * text with its numbers canonicalised is one text per jsonb value.
 */

/** A number's canonical text: no sign on zero, no leading or trailing zeros, plain digits when the exponent was 0. */
export function canonicalNumber(text: string): string {
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text)
  if (!match) return text
  const [, sign = '', whole = '', fraction = '', exponentText] = match
  let digits = (whole + fraction).replace(/^0+/, '')
  if (digits === '') return '0'
  let exponent = (exponentText === undefined ? 0 : Number(exponentText)) - fraction.length
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0
  digits = digits.slice(0, digits.length - trailing)
  exponent += trailing
  if (exponentText !== undefined) return `${sign}${digits}e${exponent}`
  // Written without an exponent (as jsonb always prints): keep it plain and readable.
  if (exponent >= 0) return `${sign}${digits}${'0'.repeat(exponent)}`
  const point = digits.length + exponent
  return point > 0
    ? `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
    : `${sign}0.${'0'.repeat(-point)}${digits}`
}

/** The end (exclusive) of the JSON string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
  return i + 1
}

const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y

/** `text` with every number outside strings in its canonical form ({@link canonicalNumber}); strings untouched. */
export function canonicalJsonNumbers(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (c === '"') {
      const end = stringEnd(text, i)
      out += text.slice(i, end)
      i = end
      continue
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i
      const match = NUMBER.exec(text)
      if (match) {
        out += canonicalNumber(match[0])
        i += match[0].length
        continue
      }
    }
    out += c
    i++
  }
  return out
}

/**
 * The members of a JSON object's text, each value as its own (untouched)
 * text, in order: `{"a": 1, "b": [2, "x"]}` → a → `1`, b → `[2, "x"]`.
 * Throws on text that is not one JSON object.
 */
export function topLevelMembers(text: string): Map<string, string> {
  const members = new Map<string, string>()
  let i = skipSpace(text, 0)
  if (text[i] !== '{') throw new Error('not a JSON object')
  i = skipSpace(text, i + 1)
  if (text[i] === '}') return members
  for (;;) {
    if (text[i] !== '"') throw new Error('not a JSON object')
    const keyEnd = stringEnd(text, i)
    const key = JSON.parse(text.slice(i, keyEnd)) as string
    i = skipSpace(text, keyEnd)
    if (text[i] !== ':') throw new Error('not a JSON object')
    const start = skipSpace(text, i + 1)
    const end = valueEnd(text, start)
    members.set(key, text.slice(start, end).trimEnd())
    i = skipSpace(text, end)
    if (text[i] === '}') return members
    if (text[i] !== ',') throw new Error('not a JSON object')
    i = skipSpace(text, i + 1)
  }
}

function skipSpace(text: string, start: number): number {
  let i = start
  while (i < text.length && /\s/.test(text[i] as string)) i++
  return i
}

/** The end of the JSON value at `start`: its closing bracket, or the next `,` or `}` at depth 0. */
function valueEnd(text: string, start: number): number {
  let depth = 0
  let i = start
  while (i < text.length) {
    const c = text[i] as string
    if (c === '"') {
      i = stringEnd(text, i)
      continue
    }
    if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') {
      if (depth === 0) return i
      depth--
    } else if (c === ',' && depth === 0) return i
    i++
  }
  throw new Error('not a JSON object')
}
