/**
 * The DDL of one migration's bypass net, built from its shape: a row trigger
 * on the legacy table whose function lets the tool's own statements through
 * (the writer marker, db/writer-marker.ts) and hands every other row to a
 * SECURITY DEFINER function that logs it and records or copies it. The
 * definer functions are what let a writer that has no grant on the control
 * schema or the shadow (a cron role) write exactly as before, so they run as
 * the installer: each pins `search_path = pg_catalog, pg_temp` (pg_temp last,
 * so no writer's temporary type or function can stand in for a catalog one),
 * names every table qualified, and only the installer may execute them (EXECUTE
 * is revoked from PUBLIC). The mapping expressions they evaluate are the
 * registered, resolved ones (store/catalog/resolve-expression.ts): every name
 * outside pg_catalog qualified, every call's argument types explicit.
 */
import { ConfigInvalid } from '../../core/errors.js'
import { sessionSettingsFunctionClauses } from '../../core/session-settings.js'
import { IS_MARKED_STATEMENT_SQL } from '../../db/writer-marker.js'
import { list, movedRowDelete, q, typeOf, type MigrationShape } from '../../shape/migration-shape.js'
import { controlSchema } from '../../db/control-schema.js'
import { divergencesTable, divergenceUpsertSql } from '../divergences/divergence-upsert-sql.js'

export type NetMode = 'record' | 'copy'
export const NET_MODES: readonly NetMode[] = ['record', 'copy']

/** Longest migration name whose trigger and function names fit PostgreSQL's 63 bytes. */
const MAX_NAME = 48

/** The names of one migration's net objects, quoted. */
export interface NetNames {
  /** The trigger on the legacy table (unqualified: a trigger lives on its table). */
  readonly trigger: string
  /** The trigger function, in the control schema. */
  readonly triggerFunction: string
  /** The SECURITY DEFINER function that logs and records or copies one row. */
  readonly applyFunction: string
  /** The statement trigger that refuses TRUNCATE of the legacy table, and its function. */
  readonly truncateTrigger: string
  readonly truncateFunction: string
}

export function netNames(schema: string, migration: string): NetNames {
  if (migration.length > MAX_NAME) {
    throw new ConfigInvalid(
      migration,
      `a bypass net needs a migration name of at most ${MAX_NAME} characters (its trigger is named after it); this one has ${migration.length}`,
    )
  }
  const s = controlSchema(schema).quoted
  return {
    trigger: q(`cutover_bypass_${migration}`),
    triggerFunction: `${s}.${q(`bypass_net_${migration}`)}`,
    applyFunction: `${s}.${q(`bypass_apply_${migration}`)}`,
    // One legacy table has one migration: the trigger's name need not carry it (it would not fit 63 bytes).
    truncateTrigger: q('cutover_bypass_truncate'),
    truncateFunction: `${s}.${q(`bypass_trunc_${migration}`)}`,
  }
}

/** True when the writing role may insert, update and delete shadow rows (the DAL's role may; a legacy-only writer may not). */
const mayWriteShadowSql = (shape: MigrationShape): string =>
  ['INSERT', 'UPDATE', 'DELETE']
    .map((p) => `pg_catalog.has_table_privilege(${pgLiteral(shape.shadowTable)}::pg_catalog.regclass, '${p}')`)
    .join(' AND ')

const pgLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`

/** The divergence key of a row variable: each legacy key column as text, like the DAL's. */
const legacyKeyJson = (shape: MigrationShape, row: string): string =>
  `jsonb_build_object(${shape.legacyKey.map((k) => `'${k.replaceAll("'", "''")}', (${row}).${q(k)}::text`).join(', ')})`

/** The shadow key of a legacy row variable, through `forward`, as a row constructor. */
const shadowKeyOf = (shape: MigrationShape, row: string): string =>
  `(SELECT ${shape.shadowKey.map((k) => `(${shape.forward.find((m) => m.column === k)?.expression ?? q(k)})::${typeOf(shape.shadowColumns, k)}`).join(', ')} FROM (SELECT (${row}).*) AS l)`

/**
 * Makes the shadow agree with legacy for the key of one row variable, the way
 * repair does: the full mapped row from legacy when legacy has it, else no
 * shadow row. Only the key of the argument is used, so the function cannot be
 * made to write anything legacy does not hold. Each plpgsql statement takes a
 * fresh snapshot, so a shadow row a backfill committed meanwhile is seen.
 */
function syncKey(shape: MigrationShape, row: string): string {
  const nonKey = shape.forward.filter((m) => !shape.shadowConflictKey.includes(m.column))
  const onConflict =
    nonKey.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${nonKey.map((m) => `${q(m.column)} = EXCLUDED.${q(m.column)}`).join(', ')}`
  const legacyMatch = `(${shape.legacyKey.map((k) => `l.${q(k)}`).join(', ')}) = (${shape.legacyKey.map((k) => `(${row}).${q(k)}`).join(', ')})`
  // A partitioned shadow: the row of the key in another partition than legacy's goes first.
  const moved = movedRowDelete(shape, `(SELECT * FROM ${shape.legacyTable} AS l WHERE ${legacyMatch}) AS l`)
  return `IF EXISTS (SELECT 1 FROM ${shape.legacyTable} AS l WHERE ${legacyMatch}) THEN
        ${moved ? `${moved};\n        ` : ''}INSERT INTO ${shape.shadowTable} (${list(shape.forward.map((m) => m.column))})${shape.overriding.shadow}
          SELECT ${shape.forward.map((m) => m.expression).join(', ')} FROM ${shape.legacyTable} AS l WHERE ${legacyMatch}
          ON CONFLICT (${list(shape.shadowConflictKey)}) ${onConflict};
      ELSE
        DELETE FROM ${shape.shadowTable} WHERE (${list(shape.shadowKey)}) = ${shadowKeyOf(shape, row)};
      END IF;`
}

/** The statements that install (or replace) the net; run them in one transaction. */
export function installNetSql(shape: MigrationShape, schema: string, mode: NetMode): string[] {
  const names = netNames(schema, shape.definition.name)
  const s = controlSchema(schema).quoted
  const migration = `'${shape.definition.name}'`
  const divergence = (row: string, kind: string, detail: string): string =>
    `${divergenceUpsertSql({
      table: divergencesTable(schema),
      columns: ['migration', 'key', 'source', 'kind', 'detail'],
      rows: `VALUES (${migration}, ${legacyKeyJson(shape, row)}, 'write', '${kind}', ${detail})`,
      refreshed: ['detail'],
    })};`
  const keyChanged = shape.legacyKey
    .map((k) => `(_cutover_old).${q(k)} IS DISTINCT FROM (_cutover_new).${q(k)}`)
    .join(' OR ')
  const who = `format('written outside the DAL (application_name %L, role %L)', _cutover_app, session_user)`
  const record = `IF _cutover_op = 'INSERT' THEN ${divergence('_cutover_new', 'missing_in_shadow', who)}
      ELSIF _cutover_op = 'DELETE' THEN ${divergence('_cutover_old', 'missing_in_legacy', who)}
      ELSE
        ${divergence('_cutover_new', 'mismatch', who)}
        IF (${keyChanged}) THEN ${divergence('_cutover_old', 'missing_in_legacy', who)} END IF;
      END IF;`
  // Copy mode never fails the writer for the shadow's sake: a row the shadow rejects becomes a write_rejected divergence.
  const copy = `BEGIN
      IF _cutover_op <> 'DELETE' THEN ${syncKey(shape, '_cutover_new')} END IF;
      IF _cutover_op = 'DELETE' OR (_cutover_op = 'UPDATE' AND (${keyChanged})) THEN ${syncKey(shape, '_cutover_old')} END IF;
    EXCEPTION WHEN integrity_constraint_violation OR data_exception THEN
      ${divergence("CASE WHEN _cutover_op = 'DELETE' THEN _cutover_old ELSE _cutover_new END", 'write_rejected', `${who} || ': ' || SQLERRM`)}
    END;`
  return [
    `CREATE OR REPLACE FUNCTION ${names.applyFunction}(_cutover_op pg_catalog.text, _cutover_new ${shape.legacyTable}, _cutover_old ${shape.legacyTable})
  RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp ${sessionSettingsFunctionClauses(shape.definition.session ?? {})} AS $cutover$
DECLARE
  _cutover_app pg_catalog.text := pg_catalog.left(coalesce(nullif(pg_catalog.current_setting('application_name', true), ''), '(none)'), 64);
  _cutover_phase pg_catalog.text := (SELECT phase FROM ${s}.state WHERE migration = ${migration});
BEGIN
  INSERT INTO ${s}.bypass_write_log (migration, application_name, role, op) VALUES (${migration}, _cutover_app, session_user, lower(_cutover_op));
  -- shadow_primary copies in either mode (the shadow is authoritative: repair would undo a recorded write);
  -- complete never copies (legacy is no longer current: its rows would overwrite newer shadow rows).
  IF _cutover_phase = 'shadow_primary' OR (_cutover_phase IS DISTINCT FROM 'complete' AND ${mode === 'copy' ? 'true' : 'false'}) THEN
    ${copy}
  ELSE
    ${record}
  END IF;
END $cutover$`,
    `REVOKE ALL ON FUNCTION ${names.applyFunction}(pg_catalog.text, ${shape.legacyTable}, ${shape.legacyTable}) FROM PUBLIC`,
    // SECURITY DEFINER so that a writer without USAGE on the control schema can reach the apply function. The
    // trigger's WHEN clause (resolved once, at CREATE TRIGGER) keeps the DAL's own rows from calling it at all,
    // so the SET clause's save and restore is paid by bypassing rows only.
    `CREATE OR REPLACE FUNCTION ${names.triggerFunction}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $cutover$
BEGIN
  PERFORM ${names.applyFunction}(TG_OP, NEW, OLD);
  RETURN NULL;
END $cutover$`,
    `REVOKE ALL ON FUNCTION ${names.triggerFunction}() FROM PUBLIC`,
    `DROP TRIGGER IF EXISTS ${names.trigger} ON ${shape.legacyTable}`,
    // The marker lets a statement through only from a role that may write the shadow itself: a writer that can
    // write legacy alone gains nothing by forging it (db/writer-marker.ts).
    `CREATE TRIGGER ${names.trigger} AFTER INSERT OR UPDATE OR DELETE ON ${shape.legacyTable} FOR EACH ROW
       WHEN (NOT (${IS_MARKED_STATEMENT_SQL} AND ${mayWriteShadowSql(shape)})) EXECUTE FUNCTION ${names.triggerFunction}()`,
    // Row triggers never see a TRUNCATE: the shadow would keep every row legacy lost. Refused while the net is on, saying how.
    `CREATE OR REPLACE FUNCTION ${names.truncateFunction}() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $cutover$
BEGIN
  RAISE EXCEPTION 'TRUNCATE of % refused: the bypass net of migration % is installed, and the shadow table would keep every row', TG_TABLE_NAME, ${migration}
    USING ERRCODE = 'object_in_use',
          HINT = 'delete the rows instead (the net records or copies each one), or remove the net first: cutover net remove ' || ${migration};
END $cutover$`,
    `DROP TRIGGER IF EXISTS ${names.truncateTrigger} ON ${shape.legacyTable}`,
    `CREATE TRIGGER ${names.truncateTrigger} BEFORE TRUNCATE ON ${shape.legacyTable} FOR EACH STATEMENT EXECUTE FUNCTION ${names.truncateFunction}()`,
  ]
}

/** The statements that remove the net from `legacyTable` (the table as it is named now). */
export function removeNetSql(schema: string, migration: string, legacyTable: string): string[] {
  const names = netNames(schema, migration)
  return [
    `DROP TRIGGER IF EXISTS ${names.trigger} ON ${legacyTable}`,
    `DROP FUNCTION IF EXISTS ${names.triggerFunction}()`,
    `DROP TRIGGER IF EXISTS ${names.truncateTrigger} ON ${legacyTable}`,
    `DROP FUNCTION IF EXISTS ${names.truncateFunction}()`,
    // Run by the legacy table's owner: nothing in it may resolve through a search_path another role can write to.
    `DO $cutover$ DECLARE f pg_catalog.regprocedure; BEGIN
       PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
       FOR f IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = '${controlSchema(schema).name.replaceAll("'", "''")}'::regnamespace AND p.proname = 'bypass_apply_${migration}' LOOP
         EXECUTE 'DROP FUNCTION ' OPERATOR(pg_catalog.||) f::pg_catalog.text;
       END LOOP;
     END $cutover$`,
  ]
}
