/**
 * Every `cutover …` command written in the runbooks and in the alerts' annotations is
 * real CLI syntax: parsed by yargs with the CLI's own command definitions, strictly.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import yargs, { type Argv } from 'yargs'
import { describe, expect, it } from 'vitest'
import type { CliCommand } from '../src/cli/command.js'
import type { GlobalArgs } from '../src/cli/context.js'
import { advanceCommand } from '../src/cli/commands/advance.js'
import { calibrateCommand } from '../src/cli/commands/calibrate.js'
import { divergencesCommand } from '../src/cli/commands/divergences.js'
import { doctorCommand } from '../src/cli/commands/doctor.js'
import { initCommand } from '../src/cli/commands/init.js'
import { jobCommands } from '../src/cli/commands/jobs.js'
import { precheckCommand } from '../src/cli/commands/precheck.js'
import { rampCommand } from '../src/cli/commands/ramp.js'
import { registerCommand } from '../src/cli/commands/register.js'
import { rollbackCommand } from '../src/cli/commands/rollback.js'
import { retireCommand, unretireCommand } from '../src/cli/commands/retire.js'
import { netCommand } from '../src/cli/commands/net.js'
import { statusCommand } from '../src/cli/commands/status.js'
import { ALERTS_YAML, RUNBOOKS_DIR, alertRules, runbooks } from '../scripts/observability/promql-sources.js'

const COMMANDS = [
  initCommand,
  registerCommand,
  statusCommand,
  precheckCommand,
  advanceCommand,
  rampCommand,
  rollbackCommand,
  ...jobCommands,
  calibrateCommand,
  divergencesCommand,
  doctorCommand,
  retireCommand,
  unretireCommand,
  netCommand,
] as unknown as CliCommand<never>[]

/** The CLI's parser as src/cli/main.ts builds it (global options, strict), with handlers that do nothing. */
function cli(): Argv<GlobalArgs> {
  let parser = yargs()
    .scriptName('cutover')
    .option('database-url', { type: 'string' })
    .option('schema', { type: 'string', default: 'cutover' })
    .option('json', { type: 'boolean', default: false })
    .option('actor', { type: 'string' })
    .option('reason', { type: 'string' })
    .strict()
    .demandCommand(1)
    .help(false)
    .version(false)
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new Error(message)
    }) as unknown as Argv<GlobalArgs>
  for (const command of COMMANDS) {
    parser = parser.command(
      command.command,
      command.describe,
      (y) => command.builder(y) as never,
      () => undefined,
    ) as Argv<GlobalArgs>
  }
  return parser
}

/** Shell words of one command line, up to a pipe, redirection, `;`, `&&` or comment. */
function shellWords(line: string): string[] {
  const words: string[] = []
  let word: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string
    if (c === '"' || c === "'") {
      const end = line.indexOf(c, i + 1)
      if (end < 0) throw new Error(`unbalanced ${c} in: ${line}`)
      word = (word ?? '') + line.slice(i + 1, end)
      i = end
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else if ('|;&>'.includes(c) || (c === '#' && word === undefined)) {
      break
    } else {
      word = (word ?? '') + c
    }
  }
  if (word !== undefined) words.push(word)
  return words
}

const COMMAND_NAMES = new Set(COMMANDS.map((c) => c.command.split(' ')[0]))

/** Parses one `cutover …` line; a bare `cutover <command>` in prose names a command and is only checked to exist. */
async function parse(line: string): Promise<unknown> {
  if (line.includes('\n')) throw new Error(`a command split over two lines cannot be copied: ${line}`)
  const [program, ...args] = shellWords(line)
  if (program !== 'cutover') throw new Error(`not a cutover command: ${line}`)
  if (args.length === 1 && COMMAND_NAMES.has(args[0] as string)) return args
  return cli().parseAsync(args)
}

/** `cutover …` commands in a markdown text: lines of ```sh blocks and `inline code`. */
function markdownCommands(markdown: string): string[] {
  const out: string[] = []
  for (const block of markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const line of (block[1] ?? '').split('\n'))
      if (/^(\$ )?cutover /.test(line)) out.push(line.replace(/^\$ /, ''))
  }
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '')
  for (const span of prose.matchAll(/`(cutover [^`]+)`/g)) out.push(span[1] as string)
  return out
}

const fromRunbooks = [
  ...runbooks(),
  ['README.md', readFileSync(join(RUNBOOKS_DIR, 'README.md'), 'utf8')] as const,
].flatMap(([file, text]) => markdownCommands(text).map((command) => [`runbooks/${file}`, command] as const))
const fromAlerts = alertRules(readFileSync(ALERTS_YAML, 'utf8')).flatMap((rule) =>
  [...(rule.annotations?.description ?? '').matchAll(/`(cutover [^`]+)`/g)].map(
    (m) => [`alert ${rule.alert}`, (m[1] as string).replaceAll('{{ $labels.migration }}', 'orders_v2')] as const,
  ),
)

describe('CLI commands in the runbooks and alerts', () => {
  it('finds them', () => {
    expect(fromRunbooks.length).toBeGreaterThan(40)
    expect(fromAlerts.length).toBeGreaterThanOrEqual(6)
  })

  it.each([...fromRunbooks, ...fromAlerts])('%s: %s is real syntax', async (_where, command) => {
    await expect(parse(command)).resolves.toBeDefined()
  })

  it('rejects what the CLI rejects', async () => {
    await expect(parse('cutover rollback orders_v2 --reason "x" | tee log')).resolves.toBeDefined()
    await expect(parse('cutover rollback orders_v2 extra')).rejects.toThrow(/Unknown argument/)
    await expect(parse('cutover rollback orders_v2 --because "x"')).rejects.toThrow(/Unknown argument/)
    await expect(parse('cutover advance orders_v2 --to primary')).rejects.toThrow(/Invalid values/)
    await expect(parse('cutover ramp orders_v2')).rejects.toThrow(/Not enough/)
    await expect(parse('cutover rewind orders_v2')).rejects.toThrow(/Unknown argument/)
    await expect(parse('cutover rewind')).rejects.toThrow(/Unknown argument/)
  })

  it.each([...runbooks()])('runbooks/%s gives one cutover command under "Make it safe"', (_file, text) => {
    const section = /^## Make it safe\n([\s\S]*?)^## /m.exec(text)?.[1] ?? ''
    const block = /^```sh\n([\s\S]*?)^```/m.exec(section)?.[1] ?? ''
    expect(block.split('\n').filter((line) => line.startsWith('cutover '))).toHaveLength(1)
  })
})
