// `npm run format` rewrites the project's TypeScript and JavaScript in Prettier's style (.prettierrc.json);
// `npm run format -- --check` changes nothing and exits 1 naming each file that is not in that style (CI runs it).
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const check = process.argv.slice(2).includes('--check')
const prettier = createRequire(import.meta.url).resolve('prettier/bin/prettier.cjs')
const result = spawnSync(
  process.execPath,
  [prettier, check ? '--check' : '--write', '--log-level', check ? 'log' : 'warn', '.'],
  { stdio: 'inherit' },
)
if (check && result.status !== 0)
  console.error("format: run `npm run format` to put these files in Prettier's style, then commit them")
process.exit(result.status ?? 1)
