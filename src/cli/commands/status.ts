import { UnknownMigration } from '../../core/errors.js'
import { readStatus, type MigrationStatus } from '../../store/state/status-sql.js'
import { defineCommand } from '../command.js'
import type { CommandContext } from '../context.js'

function printOne(ctx: CommandContext, m: MigrationStatus): void {
  const percent = m.phase === 'ramp' ? ` at ${m.readPercent}% shadow reads` : ''
  ctx.say(`${m.name}: ${m.phase}${percent}, ${m.authority} authoritative (${m.legacyTable} -> ${m.shadowTable})${m.group ? `, moves with group ${m.group}` : ''}`)
  const backfill = m.backfill.done ? `done, ${m.backfill.rows} rows` : m.backfill.running ? `running, ${m.backfill.rows} rows${m.backfill.progress === null ? '' : ` (${Math.round(m.backfill.progress * 100)}%)`}` : 'not run'
  ctx.say(`  backfill:     ${backfill}`)
  ctx.say(`  last verify:  ${m.lastVerify ? `${m.lastVerify.clean ? 'clean' : 'DIFFERENCES'} at ${m.lastVerify.at}${m.lastVerify.rowsCompared === null ? '' : ` (${m.lastVerify.rowsCompared} rows)`}` : 'never'}`)
  ctx.say(`  divergences:  ${m.divergencesLastHour} in the last hour, ${m.openDivergences} unrepaired`)
  const polling = m.listenersPolling > 0 ? ` (${m.listenersPolling} NOT hearing notifications, polling every 500 ms: see cutover doctor)` : ''
  ctx.say(`  listeners:    ${m.listeners} application processes following state${polling}`)
  if (m.retired) {
    ctx.say(`  retired:      ${m.retired.at} by ${m.retired.actor}: legacy table renamed to ${m.retired.retiredTable}${m.retired.alias ? `, alias view ${m.retired.alias}` : ''}, ${m.retired.foreignKeysMoved} foreign key(s) moved to the shadow`)
    ctx.say(`                undo: cutover unretire ${m.name}; drop for good (no undo): ${m.retired.dropSql}`)
  }
  ctx.say('  last events (newest first):')
  for (const e of m.events) {
    const move = e.to.phase ? ` ${e.from.phase}${e.from.phase === 'ramp' ? ` ${e.from.readPercent}%` : ''} -> ${e.to.phase}${e.to.phase === 'ramp' ? ` ${e.to.readPercent}%` : ''}` : ''
    const d = e.details
    const outcome = e.kind === 'verify' ? ` (${d.clean === true ? 'clean' : 'found differences'}, ${String(d.rowsCompared)} rows)`
      : e.kind === 'backfill' || e.kind === 'repair' ? ` (${String(d.rows)} rows)`
        : e.kind === 'calibrate' ? ` (${d.noisy === true ? `noisy: ${String(d.differences)} differing` : 'noise floor 0'}, ${String(d.sampled)} rows sampled)` : ''
    ctx.say(`    ${e.at}  ${e.kind}${move}${outcome} by ${e.actor}${e.forced ? ` (FORCED past gate ${String(d.overriddenGate ?? '')})` : ''}${e.reason ? `: ${e.reason}` : ''}`)
  }
}

export const statusCommand = defineCommand<{ migration?: string; events: number }>({
  command: 'status [migration]',
  describe: 'Show phase, read percentage, backfill, verify, divergences, listeners and recent events',
  epilog: 'Changes nothing.',
  builder: (y) => y
    .positional('migration', { type: 'string', describe: 'one migration, or a group (its members) (default: all)' })
    .option('events', { type: 'number', default: 5, describe: 'how many recent events to show' }) as never,
  run: async (ctx, args) => {
    const migrations = await readStatus(ctx.pool, ctx.schema, args.migration, Number.isInteger(args.events) && args.events > 0 ? args.events : 5)
    if (args.migration && migrations.length === 0) throw new UnknownMigration(args.migration)
    ctx.emit({ migrations })
    if (migrations.length === 0) ctx.say('no migrations registered; register one with: cutover register --config FILE')
    let group: string | null = null
    for (const m of migrations) {
      if (m.group !== null && m.group !== group) {
        const members = migrations.filter((o) => o.group === m.group)
        ctx.say(`group ${m.group}: ${m.phase}${m.phase === 'ramp' ? ` at ${m.readPercent}% shadow reads` : ''} (${members.map((o) => o.name).join(', ')}); all its members move together, back to legacy at once with: cutover rollback ${m.group}`)
      }
      group = m.group
      printOne(ctx, m)
    }
  },
})
