/**
 * Temporary directories for tests: `tempDir(prefix)` makes one under the OS
 * temp directory and registers it; test/support/remove-temp-dirs.ts (a vitest
 * setup file) removes every registered one after each test file, whatever the
 * file's own hooks did, so a run leaves no directory behind.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made = new Set<string>()

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  made.add(dir)
  return dir
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of made) {
    await rm(dir, { recursive: true, force: true })
    made.delete(dir)
  }
}
