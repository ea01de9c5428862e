/** `cutover rollback`: its definition; the handler loads when it runs. */
import { defineCommand } from '../command.js'

export interface RollbackArgs {
  migration: string
  'unleash-url'?: string
}

export const rollbackCommand = defineCommand<RollbackArgs>({
  command: 'rollback <migration>',
  describe: 'Send every read back to legacy at once: dual_write, 0 %, legacy authoritative',
  epilog: `Safe at any time but after complete: both tables were written atomically all along, so nothing is lost.
Needs no config file. Idempotent: running it twice is fine.
Changes: phase -> dual_write, read percentage -> 0, authority -> legacy; every running instance follows within a second (the output says how many acknowledged).
Verify: cutover status <migration>.  Undo: cutover advance <migration> --to shadow_read, then cutover ramp <migration> <percent>.
A migration routed with Unleash also gets its toggle disabled (--unleash-url or UNLEASH_URL; token from UNLEASH_ADMIN_TOKEN);
if Unleash cannot be reached the rollback still holds (routing obeys the control schema), with a warning.
A bypass net (cutover net install) is removed after the rollback, so legacy writes are what they were before the migration;
reinstall it with the command printed. If the legacy table is too busy to lock within 2 s the rollback still holds and the net stays.`,
  builder: (y) =>
    y.positional('migration', { type: 'string', demandOption: true }).option('unleash-url', {
      type: 'string',
      describe: 'Unleash API URL for Unleash-routed migrations (default: $UNLEASH_URL)',
    }) as never,
  run: async (ctx, args) => (await import('../handlers/rollback.js')).rollbackHandler(ctx, args),
})
