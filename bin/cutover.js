#!/usr/bin/env node
// Runs the compiled CLI when built, else the TypeScript sources through tsx.
// CUTOVER_FROM_SOURCE=1 runs the sources even when a build exists (the tests do, unless told the build is fresh).
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
if (existsSync(built) && process.env.CUTOVER_FROM_SOURCE !== '1') {
  await import(pathToFileURL(built).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(new URL('../src/cli/main.ts', import.meta.url).href)
}
