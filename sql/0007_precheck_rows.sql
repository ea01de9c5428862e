-- Evaluates a migration's mapping over a set of legacy keys and keeps nothing:
-- `cutover precheck` calls it once per chunk, and the query it prints to list
-- every failing key of a class calls it over the whole table.
--
-- `setup` creates what `backward` writes into (a temporary copy of the legacy
-- table's columns and CHECK/NOT NULL constraints); `forward` inserts the keys'
-- rows into the shadow through the forward mapping (ON CONFLICT DO NOTHING, as
-- the backfill does); `backward` maps those shadow rows back into the copy.
-- Both take $1, a jsonb array of keys (each an array of text in key order);
-- `forward_one` and `backward_one` do the same for $1, one key (an array of
-- text), by key equality so that each row is found through the key's index.
--
-- The whole set is tried first in one subtransaction; a set that fails is
-- halved and each half tried again, down to 16 keys, which are tried one by
-- one, so each failing row is named with PostgreSQL's own error and a few bad
-- rows among many cost a few dozen statements, not one per row. Lock waits are raised, never counted as a row's
-- failure. At the end an exception rolls back everything the block did (rows,
-- the temporary table): only the list of failures, held in a variable, is kept.
CREATE FUNCTION :CUTOVER_SCHEMA.precheck_rows(setup text, forward text, backward text, forward_one text, backward_one text, keys jsonb)
RETURNS TABLE (key jsonb, step text, sqlstate text, message text, pattern text, column_name text, constraint_name text, table_name text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  failures jsonb := '[]';
  pending jsonb[] := ARRAY[keys];
  part jsonb;
  half jsonb;
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
                      f ->> 'column', f ->> 'constraint', f ->> 'table'
                 FROM jsonb_array_elements(failures) AS f;
END $$;
