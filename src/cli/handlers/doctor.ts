/** `cutover doctor`: runs the checks (or --apply), prints one line per finding and a summary. */
import { CheckFailed, ConfigInvalid } from '../../core/errors.js'
import { doctorApply } from '../../actions/doctor-apply.js'
import { runDoctor, type DoctorReport } from '../../store/doctor/run-doctor.js'
import { MIGRATION_CHECKS } from '../../store/doctor/checks.js'
import { schemaParityCheck } from '../../store/doctor/parity-gaps.js'
import type { DoctorThresholds, Finding } from '../../store/doctor/finding.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { DoctorArgs } from '../commands/doctor.js'

function seconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new ConfigInvalid(undefined, `--${name} must be a number of seconds, 0 or more (got ${String(value)})`)
  return value
}

function line(f: Finding): string {
  const fix = f.command ? `; fix: ${f.command}` : ''
  return `${f.severity.padEnd(7)} ${f.migration ?? '(global)'} ${f.code}: ${f.message}${fix}`
}

function count(findings: readonly Finding[]): { errors: number; warnings: number } {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  }
}

function print(ctx: CommandContext, report: DoctorReport): void {
  for (const f of report.findings) ctx.say(line(f))
  const { errors, warnings } = count(report.findings)
  const scope = `${report.migrations.length} migration(s) checked`
  ctx.say(
    report.findings.length === 0
      ? `doctor: no findings, ${scope}`
      : `doctor: ${errors} error(s), ${warnings} warning(s), ${scope}`,
  )
}

export async function doctorHandler(ctx: CommandContext, args: GlobalArgs & DoctorArgs): Promise<void> {
  const thresholds: DoctorThresholds = {
    staleAfterSeconds: seconds('stale-after', args['stale-after']),
    evidenceMaxAgeSeconds: seconds('evidence-max-age', args['evidence-max-age']),
    lockAgeSeconds: seconds('lock-age', args['lock-age']),
  }
  const skipped = new Set(args.skip ? [args.skip] : [])
  const input = {
    schema: ctx.schema,
    migration: args.migration,
    thresholds,
    migrationChecks: MIGRATION_CHECKS.filter((c) => !(skipped.has('parity') && c === schemaParityCheck)),
  }
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
  ctx.emit({
    findings: report.findings,
    errors,
    warnings,
    migrations: report.migrations,
    ...(applied ? { applied } : {}),
  })
  print(ctx, report)
  if (errors > 0) throw new CheckFailed(`doctor found ${errors} error(s); run the fix printed with each`)
}
