/** The first round trip of a chunk's transaction: BEGIN with the chunk's settings. */
import { sessionSettingsSetLocal, type SessionSettings } from '../../core/session-settings.js'
import { lockTimeoutSetLocal } from '../../db/set-lock-timeout.js'

/**
 * A chunk's transaction opens with its settings in the same round trip (a number, so no parameter is needed).
 * It commits without waiting for its WAL to reach disk (synchronous_commit off, for this transaction only): the
 * chunk's work and its completion are one transaction, so a server crash can lose only both together, never one
 * without the other, and the resumed job does that chunk again. PostgreSQL keeps such a database consistent (WAL
 * is flushed in order: any later durable commit, an application write or the job's finish, makes the chunk
 * durable too). What it saves is the wait for a flush of the chunk's WAL at every chunk.
 */
export function chunkBegin(lockTimeoutMs: number, sessionSettings: SessionSettings | undefined): string {
  const settings = sessionSettingsSetLocal(sessionSettings ?? {})
  return `BEGIN; ${lockTimeoutSetLocal(lockTimeoutMs)}; SET LOCAL synchronous_commit = off${settings === '' ? '' : `; ${settings}`}`
}
