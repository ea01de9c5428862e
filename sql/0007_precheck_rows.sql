-- Evaluates a migration's mapping over a set of legacy keys and keeps nothing:
-- `cutover precheck` calls it once per chunk, and the query it prints to list
-- every failing key of a class calls it over the whole table.
--
-- `setup` creates what `backward` writes into (a temporary copy of the legacy
-- table's columns and CHECK/NOT NULL constraints); `forward` inserts the keys'
-- rows into the shadow through the forward mapping (ON CONFLICT DO NOTHING, as
-- the backfill does); `backward` maps those shadow rows back into the copy.
-- Both take $1, a jsonb array of keys (each an array of text in key order).
--
-- The whole set is tried first in one subtransaction; only when it fails is
-- each key tried in a subtransaction of its own, so each failing row is named
-- with PostgreSQL's own error. Lock waits are raised, never counted as a row's
-- failure. At the end an exception rolls back everything the block did (rows,
-- the temporary table): only the list of failures, held in a variable, is kept.
CREATE FUNCTION :CUTOVER_SCHEMA.precheck_rows(setup text, forward text, backward text, keys jsonb)
RETURNS TABLE (key jsonb, step text, sqlstate text, message text, pattern text, column_name text, constraint_name text, table_name text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  failures jsonb := '[]';
  k jsonb;
  current_step text;
  is_set_clean boolean := false;
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
    BEGIN
      EXECUTE forward USING keys;
      EXECUTE backward USING keys;
      is_set_clean := true;
    EXCEPTION
      WHEN lock_not_available OR deadlock_detected OR serialization_failure THEN RAISE;
      WHEN OTHERS THEN is_set_clean := false;
    END;
    IF NOT is_set_clean THEN
      FOR k IN SELECT value FROM jsonb_array_elements(keys) LOOP
        BEGIN
          current_step := 'forward';
          EXECUTE forward USING jsonb_build_array(k);
          current_step := 'backward';
          EXECUTE backward USING jsonb_build_array(k);
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
    END IF;
    RAISE SQLSTATE 'P0C01' USING MESSAGE = 'precheck keeps nothing';
  EXCEPTION WHEN SQLSTATE 'P0C01' THEN NULL;
  END;
  RETURN QUERY SELECT f -> 'key', f ->> 'step', f ->> 'sqlstate', f ->> 'message', f ->> 'pattern',
                      f ->> 'column', f ->> 'constraint', f ->> 'table'
                 FROM jsonb_array_elements(failures) AS f;
END $$;
