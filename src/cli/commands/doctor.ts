/** `cutover doctor [migration]`: what is wrong, one line each, with the command that fixes it. Its definition; the handler loads when it runs. */
import { DEFAULT_THRESHOLDS } from '../../store/doctor/finding.js'
import { defineCommand } from '../command.js'

export interface DoctorArgs {
  migration?: string
  'stale-after': number
  'evidence-max-age': number
  'lock-age': number
  apply: boolean
  skip?: string
}

export const doctorCommand = defineCommand<DoctorArgs>({
  command: 'doctor [migration]',
  describe:
    'Say what is wrong (stale evidence, dead leases, silent listeners, stalled jobs, divergences, locks, orphans) and the fix',
  epilog: `One line per finding: severity, migration, code, what is wrong, and the command that fixes it; then a summary.
Exit 1 when any finding is an error, 0 otherwise (warnings only); 2 when the control schema does not exist (run: cutover init).
Without a migration: every registered migration. The global checks (control-schema version, listener heartbeats) run every time.
Changes nothing, unless --apply: then the SQL carried by findings that have it (e.g. removing the row of a dead listener)
runs in one transaction, is printed, and the checks run again. Suggestions such as pg_terminate_backend are never run.
What each finding means and how to confirm it: runbooks/doctor.md.
Seeing other roles' transactions needs pg_read_all_stats (or pg_monitor) for the operator role.`,
  builder: (y) =>
    y
      .positional('migration', {
        type: 'string',
        describe: 'one migration, or a group (each of its members) (default: all, plus global checks)',
      })
      .option('stale-after', {
        type: 'number',
        default: DEFAULT_THRESHOLDS.staleAfterSeconds,
        describe:
          "seconds after which a heartbeat, a running job's progress or an unacknowledged state change is stale",
      })
      .option('evidence-max-age', {
        type: 'number',
        default: DEFAULT_THRESHOLDS.evidenceMaxAgeSeconds,
        describe: 'seconds after which a clean verify no longer counts in ramp/shadow_primary',
      })
      .option('lock-age', {
        type: 'number',
        default: DEFAULT_THRESHOLDS.lockAgeSeconds,
        describe: 'report transactions holding a lock on either table for longer than this many seconds',
      })
      .option('apply', {
        type: 'boolean',
        default: false,
        describe: 'run the SQL fixes the findings carry, in one transaction, then check again',
      })
      .option('skip', {
        type: 'string',
        choices: ['parity'],
        describe: 'leave a check out: parity (schema parity of the shadow, slow on wide schemas or known gaps)',
      }) as never,
  run: async (ctx, args) => (await import('../handlers/doctor.js')).doctorHandler(ctx, args),
})
