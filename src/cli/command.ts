/**
 * The shape of one CLI command: its yargs definition and a `run` that parses nothing and decides nothing.
 * A definition (commands/) imports nothing heavy; its `run` imports its handler (handlers/) when called, so
 * `--help`, a usage error and each command load only what they use (every CLI start pays for every import).
 */
import type { Argv } from 'yargs'
import type { CommandContext, GlobalArgs } from './context.js'

export interface CliCommand<A = Record<string, unknown>> {
  readonly command: string
  readonly describe: string
  /** What it changes and how to undo it, shown under --help. */
  readonly epilog: string
  readonly builder: (yargs: Argv<GlobalArgs>) => Argv<GlobalArgs & A>
  /** False for commands that need no database (demo). */
  readonly needsDatabase?: boolean
  /** `cli` runs another command line in this process (the demo drives the CLI it is part of); its exit code. */
  readonly run: (
    ctx: CommandContext,
    args: GlobalArgs & A,
    cli: (argv: readonly string[]) => Promise<number>,
  ) => Promise<void>
}

export function defineCommand<A>(command: CliCommand<A>): CliCommand<A> {
  return command
}
