-- What the operator role needs to run the CLI (init excepted: run `cutover init` as a role
-- that may create the schema, usually the tables' owner). Placeholders as in application.sql.
GRANT USAGE ON SCHEMA :CUTOVER_SCHEMA TO :ROLE;
GRANT SELECT ON :CUTOVER_SCHEMA.schema_versions, :CUTOVER_SCHEMA.instances TO :ROLE;
-- register: definitions, their state row and event
GRANT SELECT, INSERT, UPDATE ON :CUTOVER_SCHEMA.migrations, :CUTOVER_SCHEMA.state TO :ROLE;
GRANT SELECT, INSERT ON :CUTOVER_SCHEMA.events TO :ROLE;
-- backfill and verify jobs and their chunk leases; verify and repair record and close divergences
GRANT SELECT, INSERT, UPDATE, DELETE ON :CUTOVER_SCHEMA.jobs, :CUTOVER_SCHEMA.job_chunks TO :ROLE;
GRANT SELECT, INSERT, UPDATE ON :CUTOVER_SCHEMA.divergences TO :ROLE;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA :CUTOVER_SCHEMA TO :ROLE;
-- backfill reads legacy FOR SHARE (which needs UPDATE) and writes the shadow; repair writes both;
-- register compiles the mappings as INSERTs (EXPLAIN, never run)
GRANT SELECT, INSERT, UPDATE, DELETE ON :LEGACY_TABLE, :SHADOW_TABLE TO :ROLE;
-- the bypass net: status and rollback read it, doctor its totals (net install/remove run as the legacy table's owner)
GRANT SELECT ON :CUTOVER_SCHEMA.bypass_nets TO :ROLE;
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.bypass_write_totals() TO :ROLE;
-- a shadow key column with a sequence or identity: register checks, and entering shadow_primary sets it past every key
-- (GRANT USAGE, SELECT, UPDATE ON SEQUENCE <that sequence> TO :ROLE). Entering shadow_primary also points legacy's key
-- default at it and moves the foreign keys that reference legacy: run that advance as the tables' owner, as retire.
