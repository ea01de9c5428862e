/** The `cutover` binary's entry: the only place that exits the process. */
import { hideBin } from 'yargs/helpers'
import { interruptCleanup, runInterruptHooks } from './interrupt.js'
import { passwordOnCommandLine } from './password-warning.js'
import { runCli } from './run.js'

process.once('SIGINT', () => {
  process.stderr.write('\ncutover: interrupted; cleaning up\n')
  void runInterruptHooks().finally(() => process.exit(130))
})
const argv = hideBin(process.argv)
// Only this process's real command line is visible in ps: the demo's in-process commands are not warned about.
const warning = passwordOnCommandLine(argv)
if (warning) process.stderr.write(`${warning}\n`)
const code = await runCli(argv)
// A large --json document through a pipe must be flushed before the process exits.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
// After Ctrl-C the command fails fast; its cleanup must still finish first.
const cleanup = interruptCleanup()
if (cleanup) {
  await cleanup
  process.exit(130)
}
process.exit(code)
