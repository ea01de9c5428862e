/**
 * The session settings of a migration at registration: those the config names are checked by PostgreSQL, the rest
 * are recorded from the registering session; and the casts of a mapping whose result depends on them.
 */
import type pg from 'pg'
import type { MigrationDefinition } from '../../core/definition.js'
import { ConfigInvalid } from '../../core/errors.js'
import { quoteIdent } from '../../core/identifiers.js'
import type { SessionDependentExpression } from '../../core/session-dependent.js'
import { SESSION_SETTING_NAMES, type SessionSettings } from '../../core/session-settings.js'
import { isInvalidSettingValue, isNotImmutable, serverMessage } from '../../db/pg-errors.js'
import { inRolledBackTransaction } from '../../db/with-transaction.js'
import type { MigrationShape } from '../../shape/migration-shape.js'

/**
 * The definition with all five settings: the config's, each checked by setting it for the rest of the caller's
 * transaction (so the catalog check plans the mapping under them too), and the session's own for the rest.
 */
export async function withSessionSettings(
  client: pg.ClientBase,
  def: MigrationDefinition,
): Promise<MigrationDefinition> {
  for (const [name, value] of Object.entries(def.session ?? {})) {
    try {
      await client.query('SAVEPOINT cutover_session_setting')
      await client.query('SELECT pg_catalog.set_config($1, $2, true)', [name, value])
      await client.query('RELEASE SAVEPOINT cutover_session_setting')
    } catch (error) {
      if (!isInvalidSettingValue(error)) throw error
      await client.query('ROLLBACK TO SAVEPOINT cutover_session_setting')
      throw new ConfigInvalid(
        def.name,
        `"session.${name}": ${serverMessage(error)}; give a value PostgreSQL accepts for ${name} (SHOW ${name} prints the current one)`,
      )
    }
  }
  const { rows } = await client.query<{ name: string; value: string }>(
    'SELECT n AS name, pg_catalog.current_setting(n) AS value FROM pg_catalog.unnest($1::text[]) AS n',
    [[...SESSION_SETTING_NAMES]],
  )
  const session: Record<string, string> = {}
  for (const row of rows) session[row.name] = row.value
  return { ...def, session: session as SessionSettings }
}

/** A mapping expression whose value is not fixed by its inputs alone. */
export type SessionDependentCast = SessionDependentExpression

// In a rule's node tree: functions called (FuncExpr, and the function of an operator) and the result type of a
// cast through text (CoerceViaIO, the only node printing `:resulttype n :resultcollid n :coerceformat`).
const CULPRITS_SQL = `WITH tree AS (SELECT r.ev_action::text AS t FROM pg_catalog.pg_rewrite AS r WHERE r.ev_class = 'pg_temp.cutover_probe_view'::pg_catalog.regclass)
SELECT DISTINCT p.oid::pg_catalog.regprocedure::text AS name FROM tree, pg_catalog.regexp_matches(tree.t, ':(?:func|opfunc)id (\\d+)', 'g') AS m
  JOIN pg_catalog.pg_proc AS p ON p.oid = m[1]::pg_catalog.oid WHERE p.provolatile <> 'i'
UNION
SELECT DISTINCT 'text input of ' || pg_catalog.format_type(ty.oid, NULL) FROM tree, pg_catalog.regexp_matches(tree.t, ':resulttype (\\d+) :resultcollid \\d+ :coerceformat', 'g') AS m
  JOIN pg_catalog.pg_type AS ty ON ty.oid = m[1]::pg_catalog.oid JOIN pg_catalog.pg_proc AS p ON p.oid = ty.typinput
  WHERE p.provolatile <> 'i' AND ty.typtype <> 'e'
ORDER BY 1`

const ENUM_CAST_SQL = `SELECT EXISTS (SELECT FROM pg_catalog.pg_rewrite AS r, pg_catalog.regexp_matches(r.ev_action::text, ':resulttype (\\d+) :resultcollid \\d+ :coerceformat', 'g') AS m
  JOIN pg_catalog.pg_type AS ty ON ty.oid = m[1]::pg_catalog.oid
  WHERE r.ev_class = 'pg_temp.cutover_probe_view'::pg_catalog.regclass AND ty.typtype = 'e') AS found`

/**
 * The mapping expressions PostgreSQL does not hold immutable, with what in them is not, enum casts left out (their
 * input function is stable, but no setting changes it). Judged by adding each expression as a generated column of a
 * temporary copy of its source table (PostgreSQL refuses a non-immutable one) and reading what its parse tree calls;
 * everything is rolled back.
 */
export async function sessionDependentCasts(
  client: pg.ClientBase,
  shape: MigrationShape,
): Promise<SessionDependentCast[]> {
  const found: SessionDependentCast[] = []
  await inRolledBackTransaction(client, async () => {
    await client.query(`CREATE TEMPORARY TABLE cutover_probe_legacy (LIKE ${shape.legacyTable})`)
    await client.query(`CREATE TEMPORARY TABLE cutover_probe_shadow (LIKE ${shape.shadowTable})`)
    const sides = [
      {
        direction: 'forward' as const,
        mapped: shape.forward,
        source: 'pg_temp.cutover_probe_legacy',
        types: shape.shadowColumns,
      },
      {
        direction: 'backward' as const,
        mapped: shape.backward,
        source: 'pg_temp.cutover_probe_shadow',
        types: shape.legacyColumns,
      },
    ]
    for (const { direction, mapped, source, types } of sides) {
      for (const { column, expression } of mapped) {
        if (expression === quoteIdent(column)) continue
        const type = types.find((c) => c.name === column)?.type
        if (type === undefined) continue
        const typed = `(${expression})::${type}`
        await client.query('SAVEPOINT cutover_probe')
        try {
          await client.query(
            `ALTER TABLE ${source} ADD COLUMN cutover_probe_value ${type} GENERATED ALWAYS AS (${typed}) STORED`,
          )
          await client.query('ROLLBACK TO SAVEPOINT cutover_probe')
          continue
        } catch (error) {
          await client.query('ROLLBACK TO SAVEPOINT cutover_probe')
          // Anything else (a subquery, which a generated column cannot hold) says nothing either way.
          if (!isNotImmutable(error)) continue
        }
        await client.query(`CREATE TEMPORARY VIEW cutover_probe_view AS SELECT ${typed} AS v FROM ${source}`)
        const { rows } = await client.query<{ name: string }>(CULPRITS_SQL)
        const {
          rows: [enums],
        } = await client.query<{ found: boolean }>(ENUM_CAST_SQL)
        await client.query('DROP VIEW pg_temp.cutover_probe_view')
        const casts = rows.map((r) => r.name)
        // Nothing named but a cast to an enum: its input function is stable, yet no setting changes it.
        if (casts.length === 0 && enums?.found === true) continue
        found.push({ direction, column, expression, casts })
      }
    }
  })
  return found
}
