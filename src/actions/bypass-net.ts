/**
 * `cutover net install|remove` as actions, for the CLI and code alike: the
 * mode check, one transaction under a lock timeout (CREATE and DROP TRIGGER
 * wait for the legacy table's writers), and what a rollback does with a net.
 */
import { ConfigInvalid, CutoverError } from '../core/errors.js'
import { DEFAULT_NET_LOCK_TIMEOUT_MS } from '../core/lock-timeouts.js'
import { isLockWait, isNotFound, serverMessage } from '../db/pg-errors.js'
import type { PoolLike, Queryable } from '../db/queryable.js'
import { withTransaction } from '../db/with-transaction.js'
import { NET_MODES, type NetMode } from '../store/bypass/bypass-net-sql.js'
import { installNet, readNet, removeNet, type InstalledNet, type NetSource } from '../store/bypass/bypass-net.js'
import { setLockTimeout } from '../db/set-lock-timeout.js'

/** A rollback never waits long for the legacy table: the net is left (and said) rather than the rollback delayed. */
export const ROLLBACK_NET_LOCK_TIMEOUT_MS = 2000

export interface NetOptions {
  readonly schema: string
  readonly migration: string
  readonly actor: string
  readonly reason?: string | undefined
  /** lock_timeout of the transaction (default 5 s); not granted in time, nothing changes. */
  readonly lockTimeoutMs?: number
}

export interface InstallNetOptions extends NetOptions {
  /** `record`: each bypassing row's key becomes a divergence for repair; `copy`: the row is copied to the shadow in the writer's transaction. */
  readonly mode: string
}

/** The legacy table was not free within the lock timeout; nothing changed. Exit code 3. */
export class NetLocked extends CutoverError {
  readonly exitCode = 3
  constructor(
    readonly migration: string,
    readonly action: 'install' | 'remove',
    readonly limitMs: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `net ${action} for ${migration} could not lock the legacy table within ${limitMs} ms (${detail}); nothing changed. ` +
        `Writers or a long transaction hold it (see cutover doctor ${migration}); retry with: cutover net ${action} ${migration}${action === 'install' ? ' --mode <record|copy>' : ''}`,
      options,
    )
  }
}

function checkMode(migration: string, mode: string): NetMode {
  if ((NET_MODES as readonly string[]).includes(mode)) return mode as NetMode
  const given = mode === '' ? 'net install needs --mode' : `--mode "${mode}" is not a mode; --mode must be`
  throw new ConfigInvalid(
    migration,
    `${given} record (bypassing rows become divergences for repair) or copy (they are copied to the shadow at once); run: cutover net install ${migration} --mode copy`,
  )
}

async function locked<T>(
  pool: PoolLike,
  options: NetOptions,
  action: 'install' | 'remove',
  work: (client: Parameters<Parameters<typeof withTransaction>[1]>[0]) => Promise<T>,
): Promise<T> {
  const limitMs = options.lockTimeoutMs ?? DEFAULT_NET_LOCK_TIMEOUT_MS
  try {
    return await withTransaction(pool, async (client) => {
      await setLockTimeout(client, limitMs)
      return work(client)
    })
  } catch (error) {
    if (isLockWait(error))
      throw new NetLocked(options.migration, action, limitMs, serverMessage(error), { cause: error })
    throw error
  }
}

export interface InstallNetResult {
  readonly migration: string
  readonly mode: NetMode
  /** The net it replaced, if one was installed. */
  readonly replaced: InstalledNet | undefined
  /** The registered definition it was built from, and the mapping it runs as the installer. */
  readonly built: NetSource
}

/** Installs the net in `mode` (replacing any net already there); run as the legacy table's owner. */
export async function installBypassNet(pool: PoolLike, options: InstallNetOptions): Promise<InstallNetResult> {
  const mode = checkMode(options.migration, options.mode)
  const { replaced, built } = await locked(pool, options, 'install', (client) =>
    installNet(client, { ...options, mode }),
  )
  return { migration: options.migration, mode, replaced, built }
}

/** Removes the net; `removed` is undefined when there was none (a repeat is not an error). */
export async function removeBypassNet(
  pool: PoolLike,
  options: NetOptions,
): Promise<{ readonly migration: string; readonly removed: InstalledNet | undefined }> {
  const removed = await locked(pool, options, 'remove', (client) =>
    removeNet(client, { ...options, why: 'net remove' }),
  )
  return { migration: options.migration, removed }
}

/**
 * After a rollback has committed: the net comes off, so legacy writes are
 * exactly what they were before the migration (in copy mode the net writes the
 * shadow inside other writers' transactions). It runs after the rollback and
 * under a short lock timeout, so a busy legacy table never delays a rollback;
 * when it cannot (lock, privilege) the rollback stands and the result says how
 * to finish. Never throws.
 */
export async function removeNetAfterRollback(
  pool: PoolLike & Queryable,
  options: NetOptions,
): Promise<string | undefined> {
  try {
    if (!(await readNet(pool, options.schema, options.migration))) return undefined
  } catch (error) {
    // A control schema older than sql/0008 has no nets.
    if (isNotFound(error)) return undefined
    return `could not check for a bypass net (${serverMessage(error)}); see cutover status ${options.migration}`
  }
  try {
    const removed = await locked(
      pool,
      { ...options, lockTimeoutMs: options.lockTimeoutMs ?? ROLLBACK_NET_LOCK_TIMEOUT_MS },
      'remove',
      (client) => removeNet(client, { ...options, why: 'rollback' }),
    )
    return removed
      ? `bypass net (${removed.mode} mode) removed; reinstall it when wanted with: cutover net install ${options.migration} --mode ${removed.mode}`
      : undefined
  } catch (error) {
    const why = error instanceof CutoverError ? error.message : serverMessage(error)
    return `bypass net still installed (${why}); remove it as the legacy table's owner with: cutover net remove ${options.migration}`
  }
}
