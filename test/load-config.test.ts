import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { beforeAll, describe, it, expect } from 'vitest'
import { loadConfig, MAX_CONFIG_BYTES } from '../src/config/load-config.js'
import { ConfigInvalid } from '../src/core/errors.js'
import { tempDir } from './support/temp-dir.js'

const MIGRATION = {
  name: 'users_v2',
  legacy: { table: 'public.users', key: ['id'] },
  shadow: { table: 'public.users_v2', key: ['id'] },
  forward: { email: 'lower(email)' },
}
const CONFIG_JSON = JSON.stringify({ migrations: [MIGRATION] })

let dir: string

beforeAll(async () => {
  dir = await tempDir('cutover-load-config-')
})

/** Writes `content` to a new file of the temp directory and returns its absolute path. */
async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

/** The ConfigInvalid that loading `path` is refused with; checks it is one line with no stack frames. */
async function refusal(path: string): Promise<ConfigInvalid> {
  const error: unknown = await loadConfig(path).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, 'expected a ConfigInvalid refusal').toBeInstanceOf(ConfigInvalid)
  const { message } = error as ConfigInvalid
  expect(message).not.toContain('\n')
  expect(message).not.toMatch(/\bat .*:\d+:\d+/)
  return error as ConfigInvalid
}

describe('loadConfig: valid files', () => {
  it('loads a JSON file into validated definitions', async () => {
    const definitions = await loadConfig(await file('valid.json', CONFIG_JSON))
    expect(definitions).toHaveLength(1)
    expect(definitions[0]).toMatchObject({
      name: 'users_v2',
      legacy: { table: { schema: 'public', name: 'users' }, key: ['id'] },
      forward: { email: 'lower(email)' },
      onSecondaryError: 'fail',
    })
  })

  it('loads an .mjs file whose default export is the config', async () => {
    const path = await file('valid.mjs', `export default ${CONFIG_JSON}\n`)
    const definitions = await loadConfig(path)
    expect(definitions.map((d) => d.name)).toEqual(['users_v2'])
  })

  it('loads an .mjs file that builds its config in code', async () => {
    const source = [
      "const names = ['users', 'orders']",
      'export default {',
      '  migrations: names.map((t) => ({',
      '    name: `${t}_v2`,',
      '    legacy: { table: `public.${t}`, key: ["id"] },',
      '    shadow: { table: `public.${t}_v2`, key: ["id"] },',
      '  })),',
      '}',
    ].join('\n')
    const definitions = await loadConfig(await file('built.mjs', source))
    expect(definitions.map((d) => d.name)).toEqual(['users_v2', 'orders_v2'])
  })

  it('loads a file given by a path relative to the working directory', async () => {
    const path = await file('relative.json', CONFIG_JSON)
    const definitions = await loadConfig(relative(process.cwd(), path))
    expect(definitions[0]?.name).toBe('users_v2')
  })

  it('loads a JSON file of exactly the size limit', async () => {
    const path = await file('at-limit.json', CONFIG_JSON.padEnd(MAX_CONFIG_BYTES, ' '))
    expect(await loadConfig(path)).toHaveLength(1)
  })
})

describe('loadConfig: refused files', () => {
  it('refuses a missing file with exit code 2, naming the path and the --config option', async () => {
    const path = join(dir, 'missing.json')
    const error = await refusal(path)
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(
      `config file ${path} does not exist; pass the path of your JSON or .mjs config with --config`,
    )
  })

  it('names the absolute path when a relative path is missing', async () => {
    const path = join(dir, 'missing-relative.json')
    expect((await refusal(relative(process.cwd(), path))).message).toContain(`config file ${path} does not exist`)
  })

  it('refuses a directory, saying a file is needed', async () => {
    const path = join(dir, 'a-directory.json')
    await mkdir(path)
    expect((await refusal(path)).message).toBe(
      `config path ${path} is not a file; pass the path of your JSON or .mjs config`,
    )
  })

  it('refuses an empty file, showing what it must hold', async () => {
    const path = await file('empty.json', '')
    expect((await refusal(path)).message).toBe(`config file ${path} is empty; it must hold {"migrations": [...]}`)
  })

  it('refuses a file holding only whitespace as empty', async () => {
    const path = await file('blank.json', ' \n\t\n')
    expect((await refusal(path)).message).toContain(`config file ${path} is empty`)
  })

  it('refuses truncated JSON, saying to fix the syntax', async () => {
    const path = await file('truncated.json', '{"migrations": [')
    const { message } = await refusal(path)
    expect(message).toMatch(
      new RegExp(`^config file ${escapeRegExp(path)} is not valid JSON \\(.+\\); fix the syntax$`),
    )
  })

  it('keeps the cause of a JSON syntax error on the refusal', async () => {
    const path = await file('truncated-cause.json', '{"migrations": [')
    expect((await refusal(path)).cause).toBeInstanceOf(SyntaxError)
  })

  it.each([
    { label: 'a list', name: 'list.json', content: '[]' },
    { label: 'a string', name: 'string.json', content: '"x"' },
    { label: 'an object whose migrations are an object', name: 'object.json', content: '{"migrations": {}}' },
  ])('refuses JSON that is $label, showing the expected shape', async ({ name, content }) => {
    const path = await file(name, content)
    expect((await refusal(path)).message).toContain(
      'the config must be an object with a "migrations" list, such as {"migrations": [',
    )
  })

  it('refuses a JSON file holding an invalid migration, naming the migration', async () => {
    const path = await file('bad-migration.json', JSON.stringify({ migrations: [{ ...MIGRATION, soakSeconds: -1 }] }))
    expect((await refusal(path)).message).toContain('migration "users_v2": "soakSeconds" must be a number')
  })

  it('refuses a file over 4 MiB before reading it, naming its size and the limit', async () => {
    const path = await file('huge.json', CONFIG_JSON.padEnd(MAX_CONFIG_BYTES + 1, ' '))
    expect((await refusal(path)).message).toBe(
      `config file ${path} is ${MAX_CONFIG_BYTES + 1} bytes, more than the ${MAX_CONFIG_BYTES} a config may have; check you passed the right file`,
    )
  })

  it('refuses an .mjs file with no default export, showing how to export the config', async () => {
    const path = await file('no-default.mjs', `export const config = ${CONFIG_JSON}\n`)
    expect((await refusal(path)).message).toBe(
      `config module ${path} has no default export; export the config as "export default { migrations: [...] }"`,
    )
  })

  it('refuses an .mjs file that throws on import, giving the first line of its error', async () => {
    const path = await file('throws.mjs', "throw new Error('settings service unreachable\\nsecond line')\n")
    const error = await refusal(path)
    expect(error.message).toBe(
      `config module ${path} failed to load: settings service unreachable; run "node ${path}" to see the full error and fix the module`,
    )
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('refuses an .mjs file with a syntax error', async () => {
    const path = await file('syntax.mjs', 'export default {\n')
    expect((await refusal(path)).message).toMatch(new RegExp(`^config module ${escapeRegExp(path)} failed to load: `))
  })

  it('refuses an .mjs file whose default export has the wrong shape', async () => {
    const path = await file('wrong-shape.mjs', 'export default []\n')
    expect((await refusal(path)).message).toContain('the config must be an object with a "migrations" list')
  })
})

describe('loadConfig: regressions found by the config tests', () => {
  // parseConfig's refusal is passed through unchanged, so it does not say which file was wrong.
  it('names the file path when JSON of the wrong type is refused', async () => {
    const path = await file('wrong-type-path.json', '[]')
    expect((await refusal(path)).message).toContain(path)
  })

  // V8's JSON.parse message quotes the (short) source text, newlines included.
  it('keeps a JSON syntax refusal on one line when the broken file spans lines', async () => {
    const path = await file('multiline.json', '{\n"migrations": x\n}')
    await refusal(path)
  })

  // "failed to load: <error>" says what went wrong but not what to do next.
  it('says how to see the full error when an .mjs file throws on import', async () => {
    const path = await file('throws-fix.mjs', "throw new Error('boom')\n")
    expect((await refusal(path)).message).toMatch(/failed to load: boom; .+/)
  })
})

/** Escapes text for use inside a RegExp. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
