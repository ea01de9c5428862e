/** `cutover advance`: its definition; the handler loads when it runs. */
import { PHASES, type Phase } from '../../core/phases.js'
import { defineCommand } from '../command.js'

export interface AdvanceArgs {
  migration: string
  to?: Phase
  force: boolean
  confirm: boolean
}

export const advanceCommand = defineCommand<AdvanceArgs>({
  command: 'advance <migration>',
  describe: 'Move a migration to its next phase (or --to a phase), if its evidence allows',
  epilog: `Phases: ${PHASES.join(' -> ')}.
Gates: dual_write needs a clean precheck of the registered definition (run: cutover precheck <migration>); ramp needs a finished backfill and a clean verify after it; shadow_primary needs 100 % reads with no divergence for the soak time; complete needs a clean verify in shadow_primary, schema parity (the shadow has the grants, RLS and policies, triggers, checks, foreign keys both ways, owned sequences and unique keys of legacy; see and fix the gaps with: cutover doctor <migration> [--apply]) and --confirm.
Changes: the migration's phase; every running application instance follows within a second. --force overrides an evidence gate and is recorded;
it never confirms complete: that always needs --confirm.
Undo: cutover rollback <migration> (from any phase but complete).`,
  builder: (y) =>
    y
      .positional('migration', { type: 'string', demandOption: true, describe: 'migration name' })
      .option('to', { choices: PHASES, describe: 'target phase (default: the next one)' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'override an evidence gate (recorded in the event log); never confirms complete',
      })
      .option('confirm', {
        type: 'boolean',
        default: false,
        describe: 'confirm the one-way step to complete',
      }) as never,
  run: async (ctx, args) => (await import('../handlers/advance.js')).advanceHandler(ctx, args),
})
