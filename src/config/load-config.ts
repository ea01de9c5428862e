/** Loads a config file (JSON, or an ES module whose default export is the config) into validated definitions. */
import { readFile, stat } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { MigrationDefinition } from '../core/definition.js'
import { ConfigInvalid } from '../core/errors.js'
import { parseConfig } from '../core/parse-config.js'

/** Config files larger than this are refused before being read. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim()

async function readDocument(path: string): Promise<unknown> {
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : -1),
    () => undefined,
  )
  if (size === undefined)
    throw new ConfigInvalid(
      undefined,
      `config file ${path} does not exist; pass the path of your JSON or .mjs config with --config`,
    )
  if (size < 0)
    throw new ConfigInvalid(undefined, `config path ${path} is not a file; pass the path of your JSON or .mjs config`)
  if (size > MAX_CONFIG_BYTES)
    throw new ConfigInvalid(
      undefined,
      `config file ${path} is ${size} bytes, more than the ${MAX_CONFIG_BYTES} a config may have; check you passed the right file`,
    )
  const extension = extname(path)
  if (extension === '.mjs' || extension === '.js') {
    try {
      const module = (await import(pathToFileURL(path).href)) as { default?: unknown }
      if (module.default === undefined)
        throw new ConfigInvalid(
          undefined,
          `config module ${path} has no default export; export the config as "export default { migrations: [...] }"`,
        )
      return module.default
    } catch (error) {
      if (error instanceof ConfigInvalid) throw error
      throw new ConfigInvalid(
        undefined,
        `config module ${path} failed to load: ${oneLine(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error))}; run "node ${path}" to see the full error and fix the module`,
        { cause: error },
      )
    }
  }
  const text = await readFile(path, 'utf8')
  if (text.trim().length === 0)
    throw new ConfigInvalid(undefined, `config file ${path} is empty; it must hold {"migrations": [...]}`)
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new ConfigInvalid(
      undefined,
      `config file ${path} is not valid JSON (${oneLine(error instanceof Error ? error.message : String(error))}); fix the syntax`,
      { cause: error },
    )
  }
}

/** Reads and validates the migrations of a config file. */
export async function loadConfig(path: string): Promise<MigrationDefinition[]> {
  const absolute = resolve(path)
  const document = await readDocument(absolute)
  try {
    return parseConfig(document)
  } catch (error) {
    if (!(error instanceof ConfigInvalid)) throw error
    throw new ConfigInvalid(error.migration, `${error.detail} (in config file ${absolute})`, { cause: error })
  }
}
