/**
 * What every start of the CLI loads before it knows the command: the static imports reachable from
 * src/cli/main.ts. The tests start the CLI hundreds of times, and an operator's `--help` should not
 * load pg, pino or the actions: a command's handler is imported by its `run` (see src/cli/command.ts).
 */
import { readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The modules a source imports for their values (not `import type`, not `import()`). */
function staticImports(source: string): string[] {
  return [...source.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gm)].map(
    (match) => match[1] as string,
  )
}

/** Every project file and package reached from `entry` through static imports. */
function reachable(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const pending = [join(ROOT, entry)]
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (files.has(file)) continue
    files.add(file)
    for (const specifier of staticImports(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) pending.push(join(dirname(file), specifier.replace(/\.js$/, '.ts')))
      else if (!specifier.startsWith('node:'))
        packages.add(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        )
    }
  }
  return { files: [...files].map((f) => relative(ROOT, f)).sort(), packages: [...packages].sort() }
}

describe('the CLI at start-up', () => {
  it('loads the command definitions and the defaults they show, and no handler, action, pg or pino', () => {
    const { files, packages } = reachable('src/cli/main.ts')
    expect(packages).toEqual(['yargs'])
    const others = files.filter((f) => !f.startsWith('src/cli/commands/'))
    expect(others).toEqual([
      'src/cli/command.ts',
      'src/cli/interrupt.ts',
      'src/cli/main.ts',
      'src/cli/password-warning.ts',
      'src/cli/run.ts',
      'src/core/connection-password.ts',
      'src/core/errors.ts',
      'src/core/lock-timeouts.ts',
      'src/core/phases.ts',
      'src/jobs/job-defaults.ts',
      'src/store/doctor/finding.ts',
    ])
  })

  it('counts value imports, over several lines too, and re-exports; not type imports or import()', () => {
    const source = [
      "import type { Argv } from 'yargs'",
      "import pg from 'pg'",
      'import {',
      '  readStatus,',
      '  type MigrationStatus,',
      "} from '../../store/state/status-sql.js'",
      "import './side-effect.js'",
      "export { rollback } from '../../actions/rollback.js'",
      "export type { Finding } from '../../store/doctor/finding.js'",
      "  run: async () => (await import('../handlers/status.js')).statusHandler(),",
    ].join('\n')
    expect(staticImports(source)).toEqual([
      'pg',
      '../../store/state/status-sql.js',
      './side-effect.js',
      '../../actions/rollback.js',
    ])
  })
})
