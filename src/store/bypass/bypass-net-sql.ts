/**
 * The DDL of one migration's bypass net, built from its shape: a row trigger
 * on the legacy table whose function lets the tool's own statements through
 * (the writer marker, db/writer-marker.ts) and hands every other row to a
 * SECURITY DEFINER function that logs it and records or copies it. The
 * definer function is what lets a writer that has no grant on the control
 * schema or the shadow (a cron role) write exactly as before; it runs with the
 * installer's search_path (the one the mapping was planned with). Anyone may
 * call it, and it only ever makes the shadow agree with legacy for one key.
 */
import { ConfigInvalid } from '../../core/errors.js'
import { sessionSettingsFunctionClauses } from '../../core/session-settings.js'
import { IS_MARKED_STATEMENT_SQL } from '../../db/writer-marker.js'
import { list, q, typeOf, type MigrationShape } from '../../shape/migration-shape.js'
import { controlSchema } from '../../db/control-schema.js'

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
    throw new ConfigInvalid(migration, `a bypass net needs a migration name of at most ${MAX_NAME} characters (its trigger is named after it); this one has ${migration.length}`)
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
  const nonKey = shape.forward.filter((m) => !shape.shadowKey.includes(m.column))
  const onConflict = nonKey.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${nonKey.map((m) => `${q(m.column)} = EXCLUDED.${q(m.column)}`).join(', ')}`
  const legacyMatch = `(${shape.legacyKey.map((k) => `l.${q(k)}`).join(', ')}) = (${shape.legacyKey.map((k) => `(${row}).${q(k)}`).join(', ')})`
  return `IF EXISTS (SELECT 1 FROM ${shape.legacyTable} AS l WHERE ${legacyMatch}) THEN
        INSERT INTO ${shape.shadowTable} (${list(shape.forward.map((m) => m.column))})
          SELECT ${shape.forward.map((m) => m.expression).join(', ')} FROM ${shape.legacyTable} AS l WHERE ${legacyMatch}
          ON CONFLICT (${list(shape.shadowKey)}) ${onConflict};
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
    `INSERT INTO ${s}.divergences AS d (migration, key, source, kind, detail) VALUES (${migration}, ${legacyKeyJson(shape, row)}, 'write', '${kind}', ${detail})
        ON CONFLICT (migration, key) WHERE repaired_at IS NULL
        DO UPDATE SET last_seen = clock_timestamp(), seen_count = d.seen_count + 1, detail = EXCLUDED.detail;`
  const keyChanged = shape.legacyKey.map((k) => `(_cutover_old).${q(k)} IS DISTINCT FROM (_cutover_new).${q(k)}`).join(' OR ')
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
    `CREATE OR REPLACE FUNCTION ${names.applyFunction}(_cutover_op text, _cutover_new ${shape.legacyTable}, _cutover_old ${shape.legacyTable})
  RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT ${sessionSettingsFunctionClauses(shape.definition.session ?? {})} AS $cutover$
DECLARE
  _cutover_app text := left(coalesce(nullif(current_setting('application_name', true), ''), '(none)'), 64);
  _cutover_phase text := (SELECT phase FROM ${s}.state WHERE migration = ${migration});
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
    // SECURITY DEFINER so that a writer without USAGE on the control schema can reach the apply function;
    // no SET clause (it would cost every DAL row a GUC save and restore): its body names everything qualified.
    `CREATE OR REPLACE FUNCTION ${names.triggerFunction}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $cutover$
BEGIN
  IF NOT (${IS_MARKED_STATEMENT_SQL}) THEN
    PERFORM ${names.applyFunction}(TG_OP, NEW, OLD);
  END IF;
  RETURN NULL;
END $cutover$`,
    `DROP TRIGGER IF EXISTS ${names.trigger} ON ${shape.legacyTable}`,
    `CREATE TRIGGER ${names.trigger} AFTER INSERT OR UPDATE OR DELETE ON ${shape.legacyTable} FOR EACH ROW EXECUTE FUNCTION ${names.triggerFunction}()`,
    // Row triggers never see a TRUNCATE: the shadow would keep every row legacy lost. Refused while the net is on, saying how.
    `CREATE OR REPLACE FUNCTION ${names.truncateFunction}() RETURNS trigger LANGUAGE plpgsql AS $cutover$
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
    `DO $cutover$ DECLARE f regprocedure; BEGIN
       FOR f IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = '${controlSchema(schema).name.replaceAll("'", "''")}'::regnamespace AND p.proname = 'bypass_apply_${migration}' LOOP
         EXECUTE 'DROP FUNCTION ' || f;
       END LOOP;
     END $cutover$`,
  ]
}
