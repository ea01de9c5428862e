/** The `cutover` binary's entry: the only place that exits the process. */
import { hideBin } from 'yargs/helpers'
import { runCli } from './run.js'

process.exit(await runCli(hideBin(process.argv)))
