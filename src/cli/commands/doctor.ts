/** `cutover doctor [migration]`: what is wrong, one line each, with the command that fixes it. */
import { CheckFailed, ConfigInvalid } from '../../core/errors.js'
import { doctorApply } from '../../actions/doctor-apply.js'
import { runDoctor, type DoctorReport } from '../../store/doctor/run-doctor.js'
import { MIGRATION_CHECKS } from '../../store/doctor/checks.js'
import { schemaParityCheck } from '../../store/doctor/parity-gaps.js'
import { DEFAULT_THRESHOLDS, type DoctorThresholds, type Finding } from '../../store/doctor/finding.js'
import { defineCommand } from '../command.js'
import type { CommandContext } from '../context.js'

interface DoctorArgs {
  migration?: string
  'stale-after': number
  'evidence-max-age': number
  'lock-age': number
  apply: boolean
  skip?: string
}

function seconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new ConfigInvalid(undefined, `--${name} must be a number of seconds, 0 or more (got ${String(value)})`)
  return value
}

function line(f: Finding): string {
  const fix = f.command ? `; fix: ${f.command}` : ''
  return `${f.severity.padEnd(7)} ${f.migration ?? '(global)'} ${f.code}: ${f.message}${fix}`
}

function count(findings: readonly Finding[]): { errors: number; warnings: number } {
  return { errors: findings.filter((f) => f.severity === 'error').length, warnings: findings.filter((f) => f.severity === 'warning').length }
}

function print(ctx: CommandContext, report: DoctorReport): void {
  for (const f of report.findings) ctx.say(line(f))
  const { errors, warnings } = count(report.findings)
  const scope = `${report.migrations.length} migration(s) checked`
  ctx.say(report.findings.length === 0 ? `doctor: no findings, ${scope}` : `doctor: ${errors} error(s), ${warnings} warning(s), ${scope}`)
}

export const doctorCommand = defineCommand<DoctorArgs>({
  command: 'doctor [migration]',
  describe: 'Say what is wrong (stale evidence, dead leases, silent listeners, stalled jobs, divergences, locks, orphans) and the fix',
  epilog: `One line per finding: severity, migration, code, what is wrong, and the command that fixes it; then a summary.
Exit 1 when any finding is an error, 0 otherwise (warnings only); 2 when the control schema does not exist (run: cutover init).
Without a migration: every registered migration. The global checks (control-schema version, listener heartbeats) run every time.
Changes nothing, unless --apply: then the SQL carried by findings that have it (e.g. removing the row of a dead listener)
runs in one transaction, is printed, and the checks run again. Suggestions such as pg_terminate_backend are never run.
What each finding means and how to confirm it: runbooks/doctor.md.
Seeing other roles' transactions needs pg_read_all_stats (or pg_monitor) for the operator role.`,
  builder: (y) => y
    .positional('migration', { type: 'string', describe: 'one migration, or a group (each of its members) (default: all, plus global checks)' })
    .option('stale-after', { type: 'number', default: DEFAULT_THRESHOLDS.staleAfterSeconds, describe: 'seconds after which a heartbeat, a running job\'s progress or an unacknowledged state change is stale' })
    .option('evidence-max-age', { type: 'number', default: DEFAULT_THRESHOLDS.evidenceMaxAgeSeconds, describe: 'seconds after which a clean verify no longer counts in ramp/shadow_primary' })
    .option('lock-age', { type: 'number', default: DEFAULT_THRESHOLDS.lockAgeSeconds, describe: 'report transactions holding a lock on either table for longer than this many seconds' })
    .option('apply', { type: 'boolean', default: false, describe: 'run the SQL fixes the findings carry, in one transaction, then check again' })
    .option('skip', { type: 'string', choices: ['parity'], describe: 'leave a check out: parity (schema parity of the shadow, slow on wide schemas or known gaps)' }) as never,
  run: async (ctx, args) => {
    const thresholds: DoctorThresholds = {
      staleAfterSeconds: seconds('stale-after', args['stale-after']),
      evidenceMaxAgeSeconds: seconds('evidence-max-age', args['evidence-max-age']),
      lockAgeSeconds: seconds('lock-age', args['lock-age']),
    }
    const skipped = new Set(args.skip ? [args.skip] : [])
    const input = { schema: ctx.schema, migration: args.migration, thresholds, migrationChecks: MIGRATION_CHECKS.filter((c) => !(skipped.has('parity') && c === schemaParityCheck)) }
    let report: DoctorReport
    let applied: readonly string[] | undefined
    if (args.apply) {
      const result = await doctorApply(ctx.pool, { ...input, actor: ctx.actor, reason: ctx.reason })
      applied = result.applied
      report = result.report
      if (applied.length === 0) ctx.say('doctor --apply: no finding carries SQL to apply; nothing was changed')
      for (const statement of applied) ctx.say(`applied: ${statement}`)
      if (applied.length > 0) ctx.say('doctor: checking again after --apply')
    } else {
      report = await runDoctor(ctx.pool, input)
    }
    const { errors, warnings } = count(report.findings)
    ctx.emit({ findings: report.findings, errors, warnings, migrations: report.migrations, ...(applied ? { applied } : {}) })
    print(ctx, report)
    if (errors > 0) throw new CheckFailed(`doctor found ${errors} error(s); run the fix printed with each`)
  },
})
