/** The `cutover` command line: builds the parser, runs one command, prints, and returns the exit code. */
import yargs, { type Argv } from 'yargs'
import { CutoverError } from '../core/errors.js'
import type { CliCommand } from './command.js'
import { advanceCommand } from './commands/advance.js'
import { calibrateCommand } from './commands/calibrate.js'
import { demoCommand } from './commands/demo.js'
import { divergencesCommand } from './commands/divergences.js'
import { doctorCommand } from './commands/doctor.js'
import { initCommand } from './commands/init.js'
import { precheckCommand } from './commands/precheck.js'
import { rampCommand } from './commands/ramp.js'
import { retireCommand, unretireCommand } from './commands/retire.js'
import { netCommand } from './commands/net.js'
import { registerCommand } from './commands/register.js'
import { rollbackCommand } from './commands/rollback.js'
import { statusCommand } from './commands/status.js'
import { jobCommands } from './commands/jobs.js'
import type { CommandContext, GlobalArgs } from './context.js'

const commands = [
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
  demoCommand,
] as unknown as CliCommand<never>[]

// pg, pino and the error classifier load when a command runs, not for --help or a usage error (see command.ts).
async function report(
  error: unknown,
  args: Partial<GlobalArgs>,
  connectionString: string | undefined,
  documentPrinted = false,
): Promise<number> {
  const [{ classifyError }, { scrubSecrets }] = await Promise.all([
    import('../db/classify-error.js'),
    import('../logger.js'),
  ])
  const typed = classifyError(error, { connectionString, schema: args.schema ?? 'cutover' })
  const exitCode = typed instanceof CutoverError ? typed.exitCode : 1
  const message = scrubSecrets(typed instanceof CutoverError ? typed.message : `unexpected error: ${typed.message}`)
  if (args.json && !documentPrinted)
    process.stdout.write(
      `${JSON.stringify({ error: { message, exitCode, type: typed instanceof CutoverError ? typed.name : 'Error' } })}\n`,
    )
  process.stderr.write(`cutover: ${message}\n`)
  if (!(typed instanceof CutoverError) && process.env.CUTOVER_DEBUG)
    process.stderr.write(`${String((error as Error)?.stack)}\n`)
  return exitCode
}

async function execute(command: CliCommand<never>, args: GlobalArgs): Promise<void> {
  let ctx: CommandContext | undefined
  try {
    ctx = command.needsDatabase === false ? undefined : (await import('./context.js')).createContext(args)
    await command.run(ctx as CommandContext, args as never, runCli)
  } catch (error) {
    process.exitCode = await report(error, args, ctx?.connectionString, ctx?.hasEmitted() ?? false)
  } finally {
    await ctx?.pool.end().catch(() => undefined)
  }
}

function build(argv: string[]): Argv<GlobalArgs> {
  let cli = yargs(argv)
    .scriptName('cutover')
    .usage(
      '$0 <command> [options]\n\nMove a live PostgreSQL table to a new shape with no downtime.\nIn an emergency: cutover rollback <migration>  (no config file needed)',
    )
    .option('database-url', {
      type: 'string',
      describe:
        'postgres://user@host:port/db (default: $DATABASE_URL); keep the password off the command line, where ps shows it: PGPASSWORD, ~/.pgpass, or the whole URL in DATABASE_URL',
    })
    .option('schema', { type: 'string', default: 'cutover', describe: 'control schema name' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout, nothing else' })
    .option('actor', { type: 'string', describe: 'who is acting, for the event log (default: the OS user)' })
    .option('reason', { type: 'string', describe: 'why, for the event log' })
    .strict()
    .demandCommand(1, 'name a command; see cutover --help')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilog(
      'Exit codes: 0 done; 1 a check failed (verify found differences, a gate refused); 2 bad usage or config; 3 database unreachable; 4 permission denied (the missing grant is named).',
    )
    .exitProcess(false)
    .fail((message, error) => {
      if (error) throw error
      throw new UsageFailure(
        missingPositionals(message, argv) ?? `${message.replace(/\s*\n\s*/g, ' ').trim()}; see: cutover --help`,
      )
    }) as unknown as Argv<GlobalArgs>
  for (const command of commands) {
    cli = cli.command(
      command.command,
      command.describe,
      (y) => command.builder(y).epilog(command.epilog) as never,
      async (args) => {
        await execute(command, args as unknown as GlobalArgs)
      },
    ) as Argv<GlobalArgs>
  }
  return cli
}

/**
 * `cutover rollback` with no name: which positional is missing, in the style of
 * every other usage error, instead of the parser's "Not enough non-option arguments".
 */
function missingPositionals(message: string, argv: readonly string[]): string | undefined {
  const shortfall = /^Not enough non-option arguments: got (\d+)/.exec(message)
  const command = commands.find((c) => argv.includes(c.command.split(' ')[0] as string))
  if (!shortfall || !command) return undefined
  const [name, ...positionals] = command.command.split(' ')
  const missing = positionals.filter((p) => p.startsWith('<')).slice(Number(shortfall[1]))
  return `cutover ${name} needs ${missing.join(' ')}; usage: cutover ${command.command}; see: cutover ${name} --help`
}

/** A usage error yargs found before any command ran. */
class UsageFailure extends Error {}

/** Runs one command line (without the node and script arguments); resolves to its exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  process.exitCode = 0
  try {
    await build([...argv]).parseAsync()
  } catch (error) {
    if (!(error instanceof UsageFailure)) throw error
    if (argv.includes('--json'))
      process.stdout.write(
        `${JSON.stringify({ error: { message: error.message, exitCode: 2, type: 'UsageError' } })}\n`,
      )
    process.stderr.write(`cutover: ${error.message}\n`)
    return 2
  }
  const code = Number(process.exitCode ?? 0)
  process.exitCode = 0
  return code
}
