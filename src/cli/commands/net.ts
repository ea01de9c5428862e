/** `cutover net install|remove`: the bypass net on a migration's legacy table. Its definition; the handler loads when it runs. */
import { DEFAULT_NET_LOCK_TIMEOUT_MS } from '../../core/lock-timeouts.js'
import { defineCommand } from '../command.js'

export interface NetArgs {
  action: 'install' | 'remove'
  migration: string
  mode?: string
  'lock-timeout-ms': number
}

export const netCommand = defineCommand<NetArgs>({
  command: 'net <action> <migration>',
  describe:
    'Install or remove the bypass net: a trigger on the legacy table that catches writes that did not come through the DAL',
  epilog: `Writers besides the application (a cron job, psql, another service, a data fix) write the legacy table only.
Without a net their rows are missing or stale in the shadow until a verify finds them (and ramped reads serve the stale shadow row).
  cutover net install <migration> --mode record   each bypassing row is counted and its key recorded as a divergence; run
                                                  cutover repair <migration> to copy it to the shadow (then verify is clean)
  cutover net install <migration> --mode copy     each bypassing row is counted and copied to the shadow in the writer's own
                                                  transaction (a row the shadow rejects becomes a divergence; the writer never fails)
  cutover net remove <migration>                  removes the trigger and its functions (idempotent)
In shadow_primary both modes copy (the shadow is authoritative); install is refused in complete and while retired.
Counted in cutover_bypass_writes_total and shown by cutover doctor <migration> (application_name, role, counts, last seen).
Install again to change the mode or after a changed definition (register --force): it replaces the net.
cutover rollback removes the net; retire removes it; unretire does not reinstall it.
Run it as the legacy table's owner (CREATE/DROP TRIGGER). It waits at most --lock-timeout-ms for the table, then changes nothing (exit 3).
Runbook: runbooks/bypass-writes.md`,
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['install', 'remove'], demandOption: true })
      .positional('migration', { type: 'string', demandOption: true })
      .option('mode', {
        type: 'string',
        describe: 'install: record (divergences for repair) or copy (to the shadow at once)',
      })
      .option('lock-timeout-ms', {
        type: 'number',
        default: DEFAULT_NET_LOCK_TIMEOUT_MS,
        describe: 'longest wait for the legacy table lock; then nothing changes',
      }) as never,
  run: async (ctx, args) => (await import('../handlers/net.js')).netHandler(ctx, args),
})
