/** backfill, verify and repair: the long jobs. Their definitions; each handler loads when it runs. */
import { READ_P99_QUERY } from '../../jobs/job-defaults.js'
import { defineCommand } from '../command.js'

export interface BackfillArgs {
  migration: string
  workers: number
  parallel: number
  'max-rows-per-second'?: number
  'max-replica-lag'?: number
  'max-app-p99-ms'?: number
  'prometheus-url'?: string
  'p99-query'?: string
  'chunk-rows'?: number
  'lease-seconds': number
  'metrics-port'?: number
}

export const backfillCommand = defineCommand<BackfillArgs>({
  command: 'backfill <migration>',
  describe: 'Copy legacy rows missing from the shadow, in leased chunks (resumable, shareable across processes)',
  epilog: `Covers the key range that existed when the job started; later rows arrive through the dual write.
Given a group, it copies each member in turn, parents before children (the foreign keys between their shadows).
Run it in dual_write or later. Killed? Run the same command again: it resumes where it stopped and copies nothing twice.
Load: each worker copies on --parallel connections at once (default 2 server cores). Busy primary? --parallel 1 uses one.
Replicas falling behind? Add --max-replica-lag 5: it holds (and says why) until they catch up; the job stays resumable meanwhile.
Application slowing down? Add --max-app-p99-ms 250 --prometheus-url http://prometheus:9090 --p99-query '${READ_P99_QUERY}'
  it holds while that p99 is above 250 ms ("throttled: application p99 412 ms > 250 ms (prometheus)") and goes on when it drops.
Changes: inserts into the shadow table only (a row already there is kept), locks each chunk's legacy rows FOR SHARE briefly.
Undo: nothing to undo for the application; the shadow copy is what the migration needs.`,
  builder: (y) =>
    y
      .positional('migration', {
        type: 'string',
        demandOption: true,
        describe: 'a migration, or a group (its members, parents first)',
      })
      .option('workers', { type: 'number', default: 1, describe: 'concurrent chunk workers in this process' })
      .option('parallel', {
        type: 'number',
        default: 2,
        describe:
          'connections each worker copies a chunk on at once, each part in its own transaction (1 to 16); workers x parallel server cores at most',
      })
      .option('max-rows-per-second', {
        type: 'number',
        describe: 'throttle: at most this many rows per second from this process',
      })
      .option('max-replica-lag', {
        type: 'number',
        describe:
          'throttle: hold chunks while a streaming replica replays more than this many seconds behind (needs pg_monitor); the reason shows here and in cutover status',
      })
      .option('max-app-p99-ms', {
        type: 'number',
        describe: "throttle: hold chunks while the application's read p99 (from --p99-query) is above this many ms",
      })
      .option('prometheus-url', {
        type: 'string',
        describe: 'Prometheus to ask for the p99 (http://host:9090; credentials allowed, never printed)',
      })
      .option('p99-query', { type: 'string', describe: 'PromQL giving the read p99 in seconds as one number' })
      .option('chunk-rows', { type: 'number', describe: 'initial chunk size (adapts toward 200 ms per chunk)' })
      .option('lease-seconds', {
        type: 'number',
        default: 15,
        describe: 'a chunk held by a worker that died is taken over after this long',
      })
      .option('metrics-port', {
        type: 'number',
        describe: 'serve cutover_backfill_* metrics on http://127.0.0.1:PORT/metrics while it runs',
      }) as never,
  run: async (ctx, args) => (await import('../handlers/backfill.js')).backfillHandler(ctx, args),
})

export interface VerifyArgs {
  migration: string
  limit: number
  workers: number
  parallel: number
  'metrics-port'?: number
}

export const verifyCommand = defineCommand<VerifyArgs>({
  command: 'verify <migration>',
  describe: 'Compare both tables in the database, chunk by chunk; exit 1 if anything differs',
  epilog: `Compares the forward mapping of every legacy row with the shadow row of the same key (normalisers applied), both ways.
Changes: records each differing key as a divergence (see: cutover divergences <migration>); nothing else.
Load: each worker counts on --parallel connections at once (default 2 server cores). Busy primary? --parallel 1 uses one.
Killed? Run the same command again: it resumes where it stopped.
Next: cutover repair <migration>, then verify again.`,
  builder: (y) =>
    y
      .positional('migration', { type: 'string', demandOption: true })
      .option('limit', { type: 'number', default: 100, describe: 'differing keys to list' })
      .option('workers', {
        type: 'number',
        default: 1,
        describe: 'concurrent chunk workers in this process; each compares its chunks in the database',
      })
      .option('parallel', {
        type: 'number',
        default: 2,
        describe:
          'connections each worker compares a chunk on at once, as parallel query would (1 to 16); workers x parallel server cores at most',
      })
      .option('metrics-port', {
        type: 'number',
        describe: 'serve cutover_verify_* metrics on http://127.0.0.1:PORT/metrics while it runs',
      }) as never,
  run: async (ctx, args) => (await import('../handlers/verify.js')).verifyHandler(ctx, args),
})

export interface RepairArgs {
  migration: string
  from?: 'legacy' | 'shadow'
  'dry-run': boolean
}

export const repairCommand = defineCommand<RepairArgs>({
  command: 'repair <migration>',
  describe: 'Re-copy each recorded divergent key from the authoritative side (or --from)',
  epilog: `A key present on the source side is written whole to the other side; a key absent there is deleted from the other side.
Given a group, it repairs each member, parents first, then retries the keys a foreign key held back (a parent's delete waits for its children's).
Changes: the non-source table, for the recorded keys only; marks the divergences repaired. --dry-run lists and writes nothing.
Verify: cutover verify <migration>.`,
  builder: (y) =>
    y
      .positional('migration', {
        type: 'string',
        demandOption: true,
        describe: 'a migration, or a group (its members, parents first)',
      })
      .option('from', {
        choices: ['legacy', 'shadow'] as const,
        describe: 'source side (default: the authoritative one)',
      })
      .option('dry-run', { type: 'boolean', default: false }) as never,
  run: async (ctx, args) => (await import('../handlers/repair.js')).repairHandler(ctx, args),
})

export const jobCommands = [backfillCommand, verifyCommand, repairCommand]
