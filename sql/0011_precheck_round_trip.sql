-- precheck_mapping_rows(): precheck_rows() (sql/0007) with the round trip.
-- Once a set of keys maps forward into the shadow and back into the temporary
-- legacy copy, `round_trip` ($1: a jsonb array of keys) compares each legacy
-- row with what the application would read back, backward(forward(row)), per
-- legacy column through the migration's `compare` normalisers, and returns a
-- jsonb array of the differences (key, column, both values). A round trip that
-- cannot be evaluated fails the set like any other step, so it is halved down
-- to single keys and each key is named with PostgreSQL's SQLSTATE, under step
-- `round_trip`. Everything is rolled back at the end, as in precheck_rows().
CREATE FUNCTION :CUTOVER_SCHEMA.precheck_mapping_rows(setup text, forward text, backward text, forward_one text, backward_one text, round_trip text, keys jsonb)
RETURNS TABLE (key jsonb, step text, sqlstate text, message text, pattern text, column_name text, constraint_name text, table_name text,
               legacy_value text, round_trip_value text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  failures jsonb := '[]';
  pending jsonb[] := ARRAY[keys];
  part jsonb;
  half jsonb;
  changed jsonb;
  n int;
  k jsonb;
  current_step text;
  e_state text;
  e_message text;
  e_column text;
  e_constraint text;
  e_table text;
BEGIN
  BEGIN
    -- A deferred foreign key would only be checked at COMMIT, which never comes.
    SET CONSTRAINTS ALL IMMEDIATE;
    EXECUTE setup;
    -- pending holds sets still to try, the next one last (so failures come out in key order).
    WHILE cardinality(pending) > 0 LOOP
      part := pending[cardinality(pending)];
      pending := pending[1:cardinality(pending) - 1];
      n := jsonb_array_length(part);
      CONTINUE WHEN n = 0;
      IF n <= 16 THEN
        FOR k IN SELECT value FROM jsonb_array_elements(part) LOOP
          BEGIN
            current_step := 'forward';
            EXECUTE forward_one USING k;
            current_step := 'backward';
            EXECUTE backward_one USING k;
            current_step := 'round_trip';
            EXECUTE round_trip USING jsonb_build_array(k) INTO changed;
            failures := failures || coalesce(changed, '[]');
          EXCEPTION
            WHEN lock_not_available OR deadlock_detected OR serialization_failure THEN RAISE;
            WHEN OTHERS THEN
              GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT, e_column = COLUMN_NAME,
                                      e_constraint = CONSTRAINT_NAME, e_table = TABLE_NAME;
              failures := failures || jsonb_build_array(jsonb_build_object(
                'key', k, 'step', current_step, 'sqlstate', e_state, 'message', e_message,
                -- The class of a failure: the message with the row's own value left out.
                'pattern', regexp_replace(e_message, '(: |value )"([^"]|"")*"', '\1"…"', 'g'),
                'column', nullif(e_column, ''), 'constraint', nullif(e_constraint, ''), 'table', nullif(e_table, '')));
          END;
        END LOOP;
        CONTINUE;
      END IF;
      BEGIN
        EXECUTE forward USING part;
        EXECUTE backward USING part;
        EXECUTE round_trip USING part INTO changed;
        failures := failures || coalesce(changed, '[]');
        CONTINUE;
      EXCEPTION
        WHEN lock_not_available OR deadlock_detected OR serialization_failure THEN RAISE;
        WHEN OTHERS THEN NULL;
      END;
      -- The set failed: try each half (the later half first onto the stack, so the earlier one is tried first).
      SELECT jsonb_agg(e.value ORDER BY e.i) FILTER (WHERE e.i > n / 2), jsonb_agg(e.value ORDER BY e.i) FILTER (WHERE e.i <= n / 2)
        INTO half, part FROM jsonb_array_elements(part) WITH ORDINALITY AS e(value, i);
      pending := pending || half || part;
    END LOOP;
    RAISE SQLSTATE 'P0C01' USING MESSAGE = 'precheck keeps nothing';
  EXCEPTION WHEN SQLSTATE 'P0C01' THEN NULL;
  END;
  RETURN QUERY SELECT f -> 'key', f ->> 'step', f ->> 'sqlstate', f ->> 'message', f ->> 'pattern',
                      f ->> 'column', f ->> 'constraint', f ->> 'table', f ->> 'legacy', f ->> 'round_trip'
                 FROM jsonb_array_elements(failures) AS f;
END $$;

-- As precheck_rows (sql/0010): the texts it runs name everything qualified, so its own names resolve in pg_catalog only.
ALTER FUNCTION :CUTOVER_SCHEMA.precheck_mapping_rows(text, text, text, text, text, text, jsonb) SET search_path = pg_catalog, pg_temp;
