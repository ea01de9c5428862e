-- What an application role needs to use the DAL, and nothing more (run as the tables' owner; re-running it
-- converges: it first takes back whatever the role held in the control schema).
-- Placeholders: :ROLE, :CUTOVER_SCHEMA, :LEGACY_TABLE, :SHADOW_TABLE (quoted identifiers).
REVOKE ALL ON ALL TABLES IN SCHEMA :CUTOVER_SCHEMA FROM :ROLE;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA :CUTOVER_SCHEMA FROM :ROLE;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA :CUTOVER_SCHEMA FROM :ROLE;
GRANT USAGE ON SCHEMA :CUTOVER_SCHEMA TO :ROLE;
-- read definitions, state and the audit trail; follow changes (never write them)
GRANT SELECT ON :CUTOVER_SCHEMA.migrations, :CUTOVER_SCHEMA.state, :CUTOVER_SCHEMA.events TO :ROLE;
-- register this process, heartbeat and acknowledge state changes: row-level security keeps each login role to its own rows
GRANT SELECT, INSERT, UPDATE, DELETE ON :CUTOVER_SCHEMA.instances TO :ROLE;
-- record divergences found by read comparison and rejected secondary writes (upserts); never mark one repaired
GRANT SELECT, INSERT ON :CUTOVER_SCHEMA.divergences TO :ROLE;
GRANT UPDATE (last_seen, seen_count, source, kind, legacy_hash, shadow_hash, legacy_row, shadow_row, detail) ON :CUTOVER_SCHEMA.divergences TO :ROLE;
GRANT USAGE ON SEQUENCE :CUTOVER_SCHEMA.divergences_id_seq TO :ROLE;
-- a guardrail rollback: the one state change it may make, which can only go back (and records its own event)
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.guardrail_rollback(text, text, text, jsonb) TO :ROLE;
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.delete_by_key(regclass, text[], regtype[], text[]) TO :ROLE;
-- a partitioned shadow: the DAL's copy of a row moved to another partition (sql/0012)
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.delete_moved_by_key(regclass, text[], regtype[], text[], text[], regtype[], text[]) TO :ROLE;
-- the two tables, in every phase
GRANT SELECT, INSERT, UPDATE, DELETE ON :LEGACY_TABLE, :SHADOW_TABLE TO :ROLE;
-- the bypass net: whether one is installed and its totals (cutover_bypass_writes_total)
GRANT SELECT ON :CUTOVER_SCHEMA.bypass_nets TO :ROLE;
GRANT EXECUTE ON FUNCTION :CUTOVER_SCHEMA.bypass_write_totals() TO :ROLE;
-- a shadow key column with a sequence or identity (its key source once the shadow is authoritative; legacy's
-- default draws from it too from then on): GRANT USAGE ON SEQUENCE <that sequence> TO :ROLE;
