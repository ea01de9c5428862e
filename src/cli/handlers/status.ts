/** `cutover status`: reads the status and prints it. */
import { UnknownMigration } from '../../core/errors.js'
import { readStatus, type MigrationStatus } from '../../store/state/status-sql.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { StatusArgs } from '../commands/status.js'

function printOne(ctx: CommandContext, m: MigrationStatus): void {
  const percent = m.phase === 'ramp' ? ` at ${m.readPercent}% shadow reads` : ''
  ctx.say(
    `${m.name}: ${m.phase}${percent}, ${m.authority} authoritative (${m.legacyTable} -> ${m.shadowTable})${m.group ? `, moves with group ${m.group}` : ''}`,
  )
  const bf = m.backfill
  const pace = (job: { rowsPerSecond: number | null; etaSeconds: number | null }): string =>
    job.rowsPerSecond === null
      ? ''
      : `, ${Math.round(job.rowsPerSecond)} rows/s${job.etaSeconds === null ? '' : `, ETA ${Math.ceil(job.etaSeconds)} s`}`
  const backfill = bf.done
    ? `done, ${bf.rows} rows`
    : bf.running
      ? `running, ${bf.rows} rows${bf.progress === null ? '' : ` (${Math.round(bf.progress * 100)}%)`}${pace(bf)}${bf.throttled === null ? '' : `; throttled: ${bf.throttled}`}`
      : 'not run'
  ctx.say(`  backfill:     ${backfill}`)
  const vr = m.runningVerify
  if (vr)
    ctx.say(
      `  verify:       running, ${vr.rows} keys compared${vr.progress === null ? '' : ` (${Math.round(vr.progress * 100)}%)`}${pace(vr)}`,
    )
  ctx.say(
    `  last verify:  ${m.lastVerify ? `${m.lastVerify.clean ? 'clean' : 'DIFFERENCES'} at ${m.lastVerify.at}${m.lastVerify.rowsCompared === null ? '' : ` (${m.lastVerify.rowsCompared} rows)`}` : 'never'}`,
  )
  ctx.say(`  divergences:  ${m.divergencesLastHour} in the last hour, ${m.openDivergences} unrepaired`)
  const polling =
    m.listenersPolling > 0
      ? ` (${m.listenersPolling} NOT hearing notifications, polling every 500 ms: see cutover doctor)`
      : ''
  ctx.say(`  listeners:    ${m.listeners} application processes following state${polling}`)
  ctx.say(
    `  bypass net:   ${m.bypassNet ? `${m.bypassNet.mode} mode, installed ${m.bypassNet.installedAt} by ${m.bypassNet.installedBy} (writers that bypass the DAL: cutover doctor ${m.name})` : 'none (writes that bypass the DAL reach legacy only; see cutover net --help)'}`,
  )
  if (m.retired) {
    ctx.say(
      `  retired:      ${m.retired.at} by ${m.retired.actor}: legacy table renamed to ${m.retired.retiredTable}${m.retired.alias ? `, alias view ${m.retired.alias}` : ''}, ${m.retired.foreignKeysMoved} foreign key(s) moved to the shadow`,
    )
    ctx.say(`                undo: cutover unretire ${m.name}; drop for good (no undo): ${m.retired.dropSql}`)
  }
  ctx.say('  last events (newest first):')
  for (const e of m.events) {
    const move = e.to.phase
      ? ` ${e.from.phase}${e.from.phase === 'ramp' ? ` ${e.from.readPercent}%` : ''} -> ${e.to.phase}${e.to.phase === 'ramp' ? ` ${e.to.readPercent}%` : ''}`
      : ''
    const d = e.details
    const outcome =
      e.kind === 'verify'
        ? ` (${d.clean === true ? 'clean' : 'found differences'}, ${String(d.rowsCompared)} rows)`
        : e.kind === 'backfill' || e.kind === 'repair'
          ? ` (${String(d.rows)} rows)`
          : e.kind === 'calibrate'
            ? ` (${d.noisy === true ? `noisy: ${String(d.differences)} differing` : 'noise floor 0'}, ${String(d.sampled)} rows sampled)`
            : ''
    ctx.say(
      `    ${e.at}  ${e.kind}${move}${outcome} by ${e.actor}${e.forced ? ` (FORCED past gate ${String(d.overriddenGate ?? '')})` : ''}${e.reason ? `: ${e.reason}` : ''}`,
    )
  }
}

export async function statusHandler(ctx: CommandContext, args: GlobalArgs & StatusArgs): Promise<void> {
  const migrations = await readStatus(
    ctx.pool,
    ctx.schema,
    args.migration,
    Number.isInteger(args.events) && args.events > 0 ? args.events : 5,
  )
  if (args.migration && migrations.length === 0) throw new UnknownMigration(args.migration)
  ctx.emit({ migrations })
  if (migrations.length === 0) ctx.say('no migrations registered; register one with: cutover register --config FILE')
  let group: string | null = null
  for (const m of migrations) {
    if (m.group !== null && m.group !== group) {
      const members = migrations.filter((o) => o.group === m.group)
      ctx.say(
        `group ${m.group}: ${m.phase}${m.phase === 'ramp' ? ` at ${m.readPercent}% shadow reads` : ''} (${members.map((o) => o.name).join(', ')}); all its members move together, back to legacy at once with: cutover rollback ${m.group}`,
      )
    }
    group = m.group
    printOne(ctx, m)
  }
}
