-- cutover control schema, version 8: the bypass net (issue 15). Writers that do
-- not go through the DAL's statement (a cron job, psql, another service) reach
-- the legacy table only. `cutover net install` puts a trigger on the legacy
-- table that recognises them (the DAL's statement sets cutover.dal_statement
-- to its own statement_timestamp() in the same statement, so a later statement
-- of the same transaction is not taken for the DAL), logs each row they write,
-- and records its key as a divergence or copies it to the shadow.

-- The net installed on each migration's legacy table (one at most).
CREATE TABLE :CUTOVER_SCHEMA.bypass_nets (
  migration      text PRIMARY KEY REFERENCES :CUTOVER_SCHEMA.migrations (name) ON DELETE CASCADE,
  mode           text NOT NULL CHECK (mode IN ('record', 'copy')),
  legacy_table   regclass NOT NULL,
  definition_version integer NOT NULL,
  installed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  installed_by   text NOT NULL
);

-- One row per row a bypassing statement wrote, appended by the trigger: writers
-- never wait on each other's counter row. bypass_write_totals() folds it.
CREATE TABLE :CUTOVER_SCHEMA.bypass_write_log (
  migration        text NOT NULL,
  application_name text NOT NULL,
  role             text NOT NULL,
  op               text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
  at               timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Totals per migration, writer (application_name, role) and operation; kept after the net is removed.
CREATE TABLE :CUTOVER_SCHEMA.bypass_writes (
  migration        text NOT NULL,
  application_name text NOT NULL,
  role             text NOT NULL,
  op               text NOT NULL,
  writes           bigint NOT NULL,
  first_seen       timestamptz NOT NULL,
  last_seen        timestamptz NOT NULL,
  PRIMARY KEY (migration, application_name, role, op)
);

-- Moves the log into the totals and returns them. SECURITY DEFINER so the
-- application role (which exports cutover_bypass_writes_total) needs only EXECUTE.
CREATE FUNCTION :CUTOVER_SCHEMA.bypass_write_totals()
RETURNS TABLE (migration text, application_name text, role text, op text, writes bigint, first_seen timestamptz, last_seen timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  WITH moved AS (DELETE FROM :CUTOVER_SCHEMA.bypass_write_log RETURNING *)
  INSERT INTO :CUTOVER_SCHEMA.bypass_writes AS t (migration, application_name, role, op, writes, first_seen, last_seen)
  SELECT m.migration, m.application_name, m.role, m.op, count(*), min(m.at), max(m.at) FROM moved AS m
   GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT ON CONSTRAINT bypass_writes_pkey DO UPDATE
    SET writes = t.writes + EXCLUDED.writes, last_seen = greatest(t.last_seen, EXCLUDED.last_seen);
  RETURN QUERY SELECT b.migration, b.application_name, b.role, b.op, b.writes, b.first_seen, b.last_seen
    FROM :CUTOVER_SCHEMA.bypass_writes AS b ORDER BY b.migration, b.writes DESC;
END $$;
