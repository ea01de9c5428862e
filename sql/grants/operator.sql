-- What the operator role needs to run the CLI (init and net install/remove excepted: run those as a role that
-- owns the schema and the legacy table). Re-running it converges: it first takes back whatever the role held in
-- the control schema. Placeholders as in application.sql.
REVOKE ALL ON ALL TABLES IN SCHEMA :CUTOVER_SCHEMA FROM :ROLE;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA :CUTOVER_SCHEMA FROM :ROLE;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA :CUTOVER_SCHEMA FROM :ROLE;
GRANT USAGE ON SCHEMA :CUTOVER_SCHEMA TO :ROLE;
GRANT SELECT ON :CUTOVER_SCHEMA.schema_versions, :CUTOVER_SCHEMA.instances TO :ROLE;
-- register: definitions change only through register_definition, which resolves, versions and records them
GRANT SELECT ON :CUTOVER_SCHEMA.migrations TO :ROLE;
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.register_definition(text, jsonb, regclass, regclass, text, text, boolean, jsonb) TO :ROLE;
-- advance, ramp, rollback: the state row and its event (each event records the login role that wrote it)
GRANT SELECT, UPDATE ON :CUTOVER_SCHEMA.state TO :ROLE;
GRANT SELECT, INSERT ON :CUTOVER_SCHEMA.events TO :ROLE;
-- backfill and verify jobs and their chunk leases; verify and repair record and close divergences
GRANT SELECT, INSERT, UPDATE, DELETE ON :CUTOVER_SCHEMA.jobs, :CUTOVER_SCHEMA.job_chunks TO :ROLE;
GRANT SELECT, INSERT, UPDATE ON :CUTOVER_SCHEMA.divergences TO :ROLE;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA :CUTOVER_SCHEMA TO :ROLE;
-- doctor --apply: forget an instance whose heartbeat stopped
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.forget_stale_instance(text, double precision) TO :ROLE;
-- backfill reads legacy FOR SHARE (which needs UPDATE) and writes the shadow; repair writes both;
-- register compiles the mappings as INSERTs (EXPLAIN, never run)
GRANT SELECT, INSERT, UPDATE, DELETE ON :LEGACY_TABLE, :SHADOW_TABLE TO :ROLE;
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.delete_by_key(regclass, text[], regtype[], text[]) TO :ROLE;
-- the bypass net: status and rollback read it, doctor its totals
GRANT SELECT ON :CUTOVER_SCHEMA.bypass_nets TO :ROLE;
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.bypass_write_totals() TO :ROLE;
-- a shadow key column with a sequence or identity: register checks, and entering shadow_primary sets it past every key
-- (GRANT USAGE, SELECT, UPDATE ON SEQUENCE <that sequence> TO :ROLE). Entering shadow_primary also points legacy's key
-- default at it and moves the foreign keys that reference legacy: run that advance as the tables' owner, as retire.
