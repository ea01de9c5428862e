#!/usr/bin/env node
// Runs the compiled CLI in dist/: what an installed package has (`npm pack` builds it in prepack).
// In a clone (src/ is there) it runs the TypeScript sources through tsx, a development dependency,
// when dist/ is not built or CUTOVER_FROM_SOURCE=1 (the tests do, unless told the build is fresh).
import { existsSync } from 'node:fs'

const built = new URL('../dist/cli/main.js', import.meta.url)
const source = new URL('../src/cli/main.ts', import.meta.url)
const fail = (line) => {
  process.stderr.write(`cutover: ${line}\n`)
  process.exit(2)
}

if (existsSync(source) && (process.env.CUTOVER_FROM_SOURCE === '1' || !existsSync(built))) {
  const tsx = await import('tsx/esm/api').catch(() => undefined)
  if (!tsx) fail('this clone has no dist/ and tsx is not installed; run: npm install && npm run build')
  tsx.register()
  await import(source.href)
} else if (existsSync(built)) {
  await import(built.href)
} else {
  fail(
    'this installation has no dist/ (it was packed without running prepack); reinstall it from a package built with npm pack or npm publish',
  )
}
