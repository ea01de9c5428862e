/** One SQL statement as the builders return it: text with `$n` placeholders, and its values (always parameters). */
export interface Statement {
  readonly text: string
  readonly values: unknown[]
}
