/**
 * PostgreSQL keeps the first 63 bytes of an identifier: a 64-byte table name
 * from config used to be registered against the table its first 63 bytes name
 * (issue 23, finding 8). Every name over 63 bytes is refused before anything
 * is written, by the CLI and the library alike.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { registerMigrations } from '../../src/actions/register.js'
import type { MigrationDefinition } from '../../src/core/definition.js'
import { ConfigInvalid } from '../../src/core/errors.js'
import { parseMigration } from '../../src/core/parse-config.js'
import { expectRefusedUnchanged, runCli } from '../support/cli.js'
import { controlSnapshot, initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
/** 63 bytes: a table that exists. */
const TRUNCATED = `acct_${'x'.repeat(58)}`
/** 64 bytes, whose first 63 name that table. */
const TOO_LONG = `${TRUNCATED}9`
const world = () => controlSnapshot(db.pool)

function migration(legacyTable: string): Record<string, unknown> {
  return {
    name: 'accounts_v2',
    legacy: { table: `public.${legacyTable}`, key: ['id'] },
    shadow: { table: 'public.accounts_v2', key: ['id'] },
  }
}

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(
    `CREATE TABLE "${TRUNCATED}" (id bigint PRIMARY KEY, name text); CREATE TABLE accounts_v2 (id bigint PRIMARY KEY, name text)`,
  )
  expect(Buffer.byteLength(TOO_LONG)).toBe(64)
})

describe('identifiers over 63 bytes', { timeout: 60_000 }, () => {
  it('a 64-byte legacy table name whose 63-byte truncation exists is refused by cutover register, naming the fix, and nothing is written', async () => {
    const dir = await tempDir('cutover-long-names-')
    const config = join(dir, 'cutover.json')
    await writeFile(config, JSON.stringify({ migrations: [migration(TOO_LONG)] }))
    await expectRefusedUnchanged(
      () => runCli(['register', '--config', config, '--database-url', db.url, '--actor', 'ana']),
      world,
      2,
      /^cutover: migration "accounts_v2": "legacy\.table" names table "acct_x{58}9" of 64 bytes, but PostgreSQL keeps only the first 63 bytes of a name \("acct_x{58}"\), which may be another table; write the table's name as PostgreSQL stores it, at most 63 bytes, in "legacy\.table" \(in config file \S+cutover\.json\)$/,
    )
  })

  it('the same definition built in code, not parsed, is refused by registerMigrations, and nothing is written', async () => {
    const valid = parseMigration(migration(TRUNCATED))
    const built: MigrationDefinition = {
      ...valid,
      legacy: { ...valid.legacy, table: { schema: 'public', name: TOO_LONG } },
    }
    const before = await world()
    const refused = await registerMigrations(db.pool, [built], { schema: 'cutover', actor: 'ana' }).catch(
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(ConfigInvalid)
    expect((refused as Error).message).toMatch(
      /"legacy\.table" names table "acct_x+9" of 64 bytes.*write the table's name as PostgreSQL stores it, at most 63 bytes, in "legacy\.table"$/,
    )
    expect(await world()).toBe(before)
  })

  it('counts bytes, not characters: a 32-character column name of two-byte letters is refused', () => {
    const column = 'é'.repeat(32)
    expect(() => parseMigration({ ...migration(TRUNCATED), forward: { [column]: 'name' } })).toThrow(
      /"forward" names column "é{32}" of 64 bytes, but PostgreSQL keeps only the first 63 bytes of a name \("é{31}"\), .* in "forward"$/,
    )
    expect(() => parseMigration({ ...migration(TRUNCATED), forward: { ['é'.repeat(31)]: 'name' } })).not.toThrow()
  })

  it('a 64-byte key column, schema or compare column is refused at parsing', () => {
    const long = 'k'.repeat(64)
    expect(() =>
      parseMigration({ ...migration(TRUNCATED), shadow: { table: 'public.accounts_v2', key: [long] } }),
    ).toThrow(/"shadow\.key" names column "k+" of 64 bytes/)
    expect(() =>
      parseMigration({ ...migration(TRUNCATED), shadow: { table: `${long}.accounts_v2`, key: ['id'] } }),
    ).toThrow(/"shadow\.table" names schema "k+" of 64 bytes/)
    expect(() => parseMigration({ ...migration(TRUNCATED), compare: { [long]: 'trim' } })).toThrow(
      /"compare" names column "k+" of 64 bytes/,
    )
    expect(() => parseMigration(migration(TRUNCATED))).not.toThrow()
  })

  it('a control schema name over 63 bytes is refused with exit 2 and one line', async () => {
    await expectRefusedUnchanged(
      () => runCli(['status', '--schema', 's'.repeat(64), '--database-url', db.url]),
      world,
      2,
      /^cutover: --schema \(the control schema\) names schema "s+" of 64 bytes, .*write the schema's name as PostgreSQL stores it, at most 63 bytes, in --schema \(the control schema\)$/,
    )
  })
})
