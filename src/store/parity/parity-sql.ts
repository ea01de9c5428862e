/**
 * Reads, from the catalog, the facts schema parity compares: grants (table,
 * column and owned-sequence), row-level security and policies, triggers,
 * check constraints, foreign keys both ways, unique indexes and owned
 * sequences with their current values.
 */
import type { Queryable } from '../../db/queryable.js'
import type { QualifiedName } from '../../core/identifiers.js'
import type {
  CheckFact,
  ForeignKeyAction,
  ForeignKeyFact,
  GrantFact,
  PolicyFact,
  SequenceFact,
  TableFacts,
  TriggerFact,
  UniqueIndexFact,
} from '../../core/parity/facts.js'
import { triggerWhen } from '../../core/parity/index.js'

// aclexplode over the ACL, or over the owner's default privileges when none was ever granted.
const GRANTEE = `CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END`

async function readGrants(db: Queryable, oid: number): Promise<GrantFact[]> {
  const { rows } = await db.query<{
    grantee: string | null
    privilege: string
    is_grantable: boolean
    column: string | null
  }>(
    `SELECT ${GRANTEE} AS grantee, a.privilege_type AS privilege, a.is_grantable, NULL::text AS column
       FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a WHERE c.oid = $1
     UNION ALL
     SELECT ${GRANTEE}, a.privilege_type, a.is_grantable, att.attname::text
       FROM pg_attribute att, aclexplode(att.attacl) a
      WHERE att.attrelid = $1 AND att.attnum > 0 AND NOT att.attisdropped AND att.attacl IS NOT NULL
     ORDER BY 4 NULLS FIRST, 1, 2`,
    [oid],
  )
  return rows.map((r) => ({
    grantee: r.grantee,
    privilege: r.privilege,
    isGrantable: r.is_grantable,
    column: r.column,
  }))
}

const COMMANDS: Record<string, PolicyFact['command']> = {
  '*': 'ALL',
  r: 'SELECT',
  a: 'INSERT',
  w: 'UPDATE',
  d: 'DELETE',
}

async function readPolicies(db: Queryable, oid: number): Promise<PolicyFact[]> {
  const { rows } = await db.query<{
    name: string
    cmd: string
    permissive: boolean
    roles: (string | null)[]
    using: string | null
    with_check: string | null
  }>(
    `SELECT p.polname AS name, p.polcmd AS cmd, p.polpermissive AS permissive,
            ARRAY(SELECT CASE WHEN r = 0 THEN NULL ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r)::text[] AS roles,
            pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
       FROM pg_policy p WHERE p.polrelid = $1 ORDER BY p.polname`,
    [oid],
  )
  return rows.map((r) => ({
    name: r.name,
    command: COMMANDS[r.cmd] ?? 'ALL',
    isPermissive: r.permissive,
    roles: r.roles,
    using: r.using,
    withCheck: r.with_check,
  }))
}

/** tgargs: each argument ends with a NUL byte. */
function triggerArgs(hex: string, count: number): string[] {
  if (count === 0) return []
  return Buffer.from(hex, 'hex').toString('utf8').split('\u0000').slice(0, count)
}

/**
 * Whether the function of trigger row `fn` (its pg_namespace) is cutover's: it lives in the migration's control
 * schema ($2) or in any other cutover control schema (one holding cutover's schema_versions and bypass_nets tables),
 * whatever the trigger is named.
 */
const CUTOVER_OWNED = `(fn.nspname = $2 OR (SELECT count(*) FROM pg_class k
   WHERE k.relnamespace = fn.oid AND k.relkind = 'r' AND k.relname IN ('schema_versions', 'bypass_nets')) = 2)`

async function readTriggers(db: Queryable, oid: number, controlSchema: string): Promise<TriggerFact[]> {
  const { rows } = await db.query<{
    name: string
    type: number
    enabled: string
    update_columns: string[]
    definition: string
    function_oid: number
    function_name: string
    function_source: string
    args_hex: string
    nargs: number
    old_table: string | null
    new_table: string | null
    is_constraint: boolean
    deferrable: boolean
    deferred: boolean
    constraint_table: string | null
    cutover_owned: boolean
  }>(
    `SELECT t.tgname AS name, t.tgtype::int AS type, t.tgenabled AS enabled,
            ARRAY(SELECT a.attname FROM unnest(t.tgattr::int2[]) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS update_columns,
            pg_get_triggerdef(t.oid) AS definition, t.tgfoid::int AS function_oid,
            quote_ident(fn.nspname) || '.' || quote_ident(p.proname) AS function_name, p.prosrc AS function_source,
            encode(t.tgargs, 'hex') AS args_hex, t.tgnargs::int AS nargs, t.tgoldtable::text AS old_table, t.tgnewtable::text AS new_table,
            t.tgconstraint <> 0 AS is_constraint, t.tgdeferrable AS deferrable, t.tginitdeferred AS deferred,
            CASE WHEN t.tgconstrrelid <> 0 THEN t.tgconstrrelid::regclass::text END AS constraint_table,
            ${CUTOVER_OWNED} AS cutover_owned
       FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace fn ON fn.oid = p.pronamespace
      WHERE t.tgrelid = $1 AND NOT t.tgisinternal ORDER BY t.tgname`,
    [oid, controlSchema],
  )
  return rows.map((r) => {
    // tgtype bits (pg_trigger.h): ROW 1, BEFORE 2, INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32, INSTEAD 64.
    const events: TriggerFact['events'][number][] = []
    if (r.type & 4) events.push('INSERT')
    if (r.type & 16) events.push('UPDATE')
    if (r.type & 8) events.push('DELETE')
    if (r.type & 32) events.push('TRUNCATE')
    return {
      name: r.name,
      timing: r.type & 2 ? 'BEFORE' : r.type & 64 ? 'INSTEAD OF' : 'AFTER',
      events,
      updateColumns: r.update_columns,
      isRow: (r.type & 1) === 1,
      when: triggerWhen(r.definition),
      functionOid: r.function_oid,
      functionName: r.function_name,
      functionSource: r.function_source,
      args: triggerArgs(r.args_hex, r.nargs),
      isEnabled: r.enabled !== 'D',
      oldTable: r.old_table,
      newTable: r.new_table,
      isConstraint: r.is_constraint,
      isDeferrable: r.deferrable,
      isInitiallyDeferred: r.deferred,
      constraintTable: r.constraint_table,
      isCutoverOwned: r.cutover_owned,
    }
  })
}

async function readChecks(db: Queryable, oid: number): Promise<CheckFact[]> {
  const { rows } = await db.query<{ name: string; expression: string; validated: boolean; no_inherit: boolean }>(
    `SELECT conname AS name, pg_get_expr(conbin, conrelid) AS expression, convalidated AS validated, connoinherit AS no_inherit
       FROM pg_constraint WHERE conrelid = $1 AND contype = 'c' ORDER BY conname`,
    [oid],
  )
  return rows.map((r) => ({
    name: r.name,
    expression: r.expression,
    isValidated: r.validated,
    isNoInherit: r.no_inherit,
  }))
}

const ACTIONS: Record<string, ForeignKeyAction> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
}
const MATCHES: Record<string, ForeignKeyFact['match']> = { s: 'SIMPLE', f: 'FULL', p: 'PARTIAL' }

/** Foreign keys declared on `oid` (`out`), or on other tables and referencing `oid` (`in`), excluding `exclude`. */
async function readForeignKeys(
  db: Queryable,
  oid: number,
  direction: 'out' | 'in',
  exclude: readonly number[],
): Promise<ForeignKeyFact[]> {
  const { rows } = await db.query<{
    name: string
    table_oid: number
    table_schema: string
    table_name: string
    columns: string[]
    ref_oid: number
    ref_schema: string
    ref_name: string
    ref_columns: string[]
    upd: string
    del: string
    match: string
    deferrable: boolean
    deferred: boolean
    taken: string[]
  }>(
    `SELECT c.conname AS name, c.conrelid::int AS table_oid, tn.nspname AS table_schema, t.relname AS table_name,
            ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS columns,
            c.confrelid::int AS ref_oid, rn.nspname AS ref_schema, r.relname AS ref_name,
            ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS ref_columns,
            c.confupdtype AS upd, c.confdeltype AS del, c.confmatchtype AS match, c.condeferrable AS deferrable, c.condeferred AS deferred,
            ARRAY(SELECT o.conname FROM pg_constraint o WHERE o.conrelid = c.conrelid)::text[] AS taken
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
      WHERE c.contype = 'f' AND c.conparentid = 0
        AND ${direction === 'out' ? 'c.conrelid = $1' : 'c.confrelid = $1 AND c.conrelid <> ALL($2::oid[])'}
      ORDER BY c.conname, c.conrelid`,
    direction === 'out' ? [oid] : [oid, [oid, ...exclude]],
  )
  return rows.map((r) => ({
    name: r.name,
    tableOid: r.table_oid,
    table: { schema: r.table_schema, name: r.table_name },
    columns: r.columns,
    refTableOid: r.ref_oid,
    refTable: { schema: r.ref_schema, name: r.ref_name },
    refColumns: r.ref_columns,
    onUpdate: ACTIONS[r.upd] ?? 'NO ACTION',
    onDelete: ACTIONS[r.del] ?? 'NO ACTION',
    match: MATCHES[r.match] ?? 'SIMPLE',
    isDeferrable: r.deferrable,
    isInitiallyDeferred: r.deferred,
    tableConstraintNames: r.taken,
  }))
}

async function readUniqueIndexes(db: Queryable, oid: number): Promise<UniqueIndexFact[]> {
  const { rows } = await db.query<{
    name: string
    primary: boolean
    is_constraint: boolean
    keys: string[]
    predicate: string | null
    nulls_not_distinct: boolean
    method: string
  }>(
    `SELECT ic.relname AS name, i.indisprimary AS primary,
            EXISTS (SELECT FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')) AS is_constraint,
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts::int) k ORDER BY k)::text[] AS keys,
            pg_get_expr(i.indpred, i.indrelid) AS predicate, i.indnullsnotdistinct AS nulls_not_distinct, am.amname AS method
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
      WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid ORDER BY ic.relname`,
    [oid],
  )
  return rows.map((r) => ({
    name: r.name,
    isPrimary: r.primary,
    isConstraint: r.is_constraint,
    keys: r.keys,
    predicate: r.predicate,
    isNullsNotDistinct: r.nulls_not_distinct,
    method: r.method,
  }))
}

async function readSequences(db: Queryable, oid: number): Promise<SequenceFact[]> {
  const { rows } = await db.query<{
    column: string
    schema: string
    name: string
    identity: boolean
    readable: boolean
    last_value: string | null
    grants: { grantee: string | null; privilege: string; isGrantable: boolean }[]
  }>(
    `SELECT a.attname AS column, sn.nspname AS schema, s.relname AS name, d.deptype = 'i' AS identity,
            has_sequence_privilege(s.oid, 'SELECT, USAGE') AS readable,
            CASE WHEN has_sequence_privilege(s.oid, 'SELECT, USAGE') THEN pg_sequence_last_value(s.oid)::text END AS last_value,
            (SELECT coalesce(json_agg(json_build_object('grantee', ${GRANTEE}, 'privilege', a.privilege_type, 'isGrantable', a.is_grantable)), '[]')
               FROM aclexplode(coalesce(s.relacl, acldefault('s', s.relowner))) a) AS grants
       FROM pg_depend d
       JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $1 AND d.deptype IN ('a', 'i')
      ORDER BY a.attnum`,
    [oid],
  )
  return rows.map((r) => ({
    column: r.column,
    sequence: { schema: r.schema, name: r.name },
    isIdentity: r.identity,
    lastValue: r.last_value,
    isReadable: r.readable,
    grants: r.grants.map((g) => ({ ...g, column: null })),
  }))
}

/**
 * Every fact parity compares about `table`. `otherOid` is the other side of
 * the migration: its foreign keys to this table are not "incoming" ones.
 * `controlSchema` is the migration's (its triggers' functions are cutover's).
 */
export async function readTableFacts(
  db: Queryable,
  table: QualifiedName,
  otherOid: number,
  controlSchema: string,
): Promise<TableFacts | undefined> {
  const { rows } = await db.query<{
    oid: number
    rls: boolean
    force: boolean
    columns: string[]
    constraints: string[]
  }>(
    `SELECT c.oid::int AS oid, c.relrowsecurity AS rls, c.relforcerowsecurity AS force,
            ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum)::text[] AS columns,
            ARRAY(SELECT conname FROM pg_constraint WHERE conrelid = c.oid)::text[] AS constraints
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [table.schema, table.name],
  )
  const row = rows[0]
  if (!row) return undefined
  const oid = row.oid
  return {
    oid,
    table,
    columns: row.columns,
    rowSecurity: row.rls,
    forceRowSecurity: row.force,
    grants: await readGrants(db, oid),
    policies: await readPolicies(db, oid),
    triggers: await readTriggers(db, oid, controlSchema),
    checks: await readChecks(db, oid),
    foreignKeysOut: await readForeignKeys(db, oid, 'out', []),
    foreignKeysIn: await readForeignKeys(db, oid, 'in', [otherOid]),
    uniqueIndexes: await readUniqueIndexes(db, oid),
    sequences: await readSequences(db, oid),
    constraintNames: row.constraints,
  }
}
