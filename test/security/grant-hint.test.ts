/**
 * A permission error names the grant that fixes it. It used to offer
 * SELECT, INSERT, UPDATE, DELETE on any table, an unrelated one a mapping
 * merely reads included (issue 23, finding 8). Write privileges are offered
 * only on the tables the migration owns (legacy, shadow, the control schema);
 * a table a mapping reads gets SELECT only, named with its schema, and the
 * GRANT printed is one PostgreSQL accepts and that lets the command through.
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRefusedUnchanged, runCli } from '../support/cli.js'
import { controlSnapshot, initControl } from '../support/control.js'
import { freshDatabase } from '../support/database.js'
import { ORDERS_CONFIG, ORDERS_DDL } from '../support/orders-fixture.js'
import { applyGrants, urlFor } from '../support/roles.js'
import { tempDir } from '../support/temp-dir.js'

const db = await freshDatabase()
const suffix = randomBytes(4).toString('hex')
const operator = `ops_${suffix}`
const noShadow = `ops_noshadow_${suffix}`
let config: string

const register = (role: string) => () =>
  runCli(['register', '--config', config, '--database-url', urlFor(db, role), '--actor', 'ana'])

/** The GRANT statement of a refusal's "have its owner run: GRANT … TO role" (without the explanation after it). */
function suggestedGrant(stderr: string, role: string): string {
  const grant = new RegExp(`have its owner run: (GRANT .*? TO "${role}")`).exec(stderr)?.[1]
  expect(grant, stderr).toBeDefined()
  return grant as string
}

beforeAll(async () => {
  await initControl(db.pool)
  await db.query(`${ORDERS_DDL}
    CREATE TABLE price_list (currency text PRIMARY KEY, cents_per_unit numeric NOT NULL);
    INSERT INTO price_list VALUES ('EUR', 100);
    CREATE ROLE "${operator}" LOGIN PASSWORD 'pw'; CREATE ROLE "${noShadow}" LOGIN PASSWORD 'pw'`)
  await applyGrants(db, 'operator', operator)
  await applyGrants(db, 'operator', noShadow)
  await db.query(`REVOKE ALL ON orders_v2 FROM "${noShadow}"; GRANT SELECT ON price_list TO "${noShadow}"`)
  const dir = await tempDir('cutover-grant-hint-')
  config = join(dir, 'cutover.json')
  // The forward mapping reads a table that is none of the migration's: a price list.
  await writeFile(
    config,
    JSON.stringify({
      migrations: [
        {
          ...ORDERS_CONFIG,
          forward: {
            ...ORDERS_CONFIG.forward,
            amount: "amount_cents / (SELECT p.cents_per_unit FROM public.price_list AS p WHERE p.currency = 'EUR')",
          },
        },
      ],
    }),
  )
})

afterAll(async () => {
  await db.query(`DROP OWNED BY "${operator}", "${noShadow}"; DROP ROLE "${operator}"; DROP ROLE "${noShadow}"`)
})

describe('the grant a permission error names', { timeout: 120_000 }, () => {
  it("for the migration's own shadow table is what sql/grants/operator.sql gives there, on the qualified table, and running it lets register through", async () => {
    const refused = await expectRefusedUnchanged(
      register(noShadow),
      () => controlSnapshot(db.pool),
      4,
      new RegExp(
        `^cutover: permission denied on table public\\.orders_v2 \\(permission denied for table orders_v2\\); have its owner run: GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"\\."orders_v2" TO "${noShadow}" \\(as in sql/grants/operator\\.sql\\)$`,
      ),
    )
    await db.query(suggestedGrant(refused.stderr, noShadow))
    const registered = await register(noShadow)()
    expect(registered.code, registered.stderr).toBe(0)
  })

  it('for a table a mapping reads is SELECT on that table only, schema-qualified, and running it lets register through', async () => {
    const refused = await expectRefusedUnchanged(
      register(operator),
      () => controlSnapshot(db.pool),
      4,
      new RegExp(
        `^cutover: permission denied on table public\\.price_list \\(permission denied for table price_list\\); have its owner run: GRANT SELECT ON TABLE "public"\\."price_list" TO "${operator}" \\(SELECT only: a mapping reads it, and it is not one of the migration's tables\\)$`,
      ),
    )
    expect(refused.stderr).not.toMatch(/INSERT|UPDATE|DELETE/)
    await db.query(suggestedGrant(refused.stderr, operator))
    // The migration is registered by now (the test above): the same definition again, compiled again, is unchanged.
    const registered = await register(operator)()
    expect(registered.code, registered.stderr).toBe(0)
    expect(
      await db.query(
        `SELECT privilege_type FROM information_schema.role_table_grants WHERE grantee = $1 AND table_name = 'price_list'`,
        [operator],
      ),
    ).toEqual([{ privilege_type: 'SELECT' }])
  })
})
