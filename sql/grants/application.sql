-- What an application role needs to use the DAL (run as the tables' owner).
-- Placeholders: :ROLE, :CUTOVER_SCHEMA, :LEGACY_TABLE, :SHADOW_TABLE (quoted identifiers).
GRANT USAGE ON SCHEMA :CUTOVER_SCHEMA TO :ROLE;
-- read definitions and state; follow changes
GRANT SELECT ON :CUTOVER_SCHEMA.migrations, :CUTOVER_SCHEMA.state TO :ROLE;
-- register this process and acknowledge state changes
GRANT SELECT, INSERT, UPDATE, DELETE ON :CUTOVER_SCHEMA.instances TO :ROLE;
-- record divergences found by read comparison and rejected secondary writes (upserts)
GRANT SELECT, INSERT, UPDATE ON :CUTOVER_SCHEMA.divergences TO :ROLE;
-- a guardrail rollback: lock and update the state row, append its event
GRANT UPDATE ON :CUTOVER_SCHEMA.state TO :ROLE;
GRANT SELECT, INSERT ON :CUTOVER_SCHEMA.events TO :ROLE;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA :CUTOVER_SCHEMA TO :ROLE;
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.delete_by_key(regclass, text[], regtype[], text[]) TO :ROLE;
-- a partitioned shadow: the DAL's copy of a row moved to another partition (sql/0012)
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.delete_moved_by_key(regclass, text[], regtype[], text[], text[], regtype[], text[]) TO :ROLE;
-- the two tables, in every phase
GRANT SELECT, INSERT, UPDATE, DELETE ON :LEGACY_TABLE, :SHADOW_TABLE TO :ROLE;
-- the bypass net: whether one is installed (a guardrail rollback removes it when it can) and its totals (cutover_bypass_writes_total)
GRANT SELECT ON :CUTOVER_SCHEMA.bypass_nets TO :ROLE;
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.bypass_write_totals() TO :ROLE;
-- a shadow key column with a sequence or identity (its key source once the shadow is authoritative; legacy's
-- default draws from it too from then on): GRANT USAGE ON SEQUENCE <that sequence> TO :ROLE;
