-- cutover control schema, version 10: least privilege (issue 23). No role gains
-- another's rights through cutover:
--   * every event records the login role that wrote it (session_user), whatever
--     actor the client claims;
--   * a definition changes only through register_definition(), which resolves
--     each mapping expression itself, refuses what the caller could not run,
--     versions the definition and records the event (no role keeps a grant to
--     write migrations);
--   * the application role rolls back through guardrail_rollback(), which can
--     only go back, and keeps to its own instances rows;
--   * every SECURITY DEFINER function pins search_path = pg_catalog, pg_temp,
--     and none is executable by PUBLIC. The grants are in sql/grants/.

-- The login role of the session that wrote the event, set by the server: a client cannot claim another.
ALTER TABLE :CUTOVER_SCHEMA.events ADD COLUMN db_user text;
CREATE FUNCTION :CUTOVER_SCHEMA.events_db_user() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  NEW.db_user := session_user;
  RETURN NEW;
END $$;
CREATE TRIGGER events_db_user BEFORE INSERT ON :CUTOVER_SCHEMA.events FOR EACH ROW EXECUTE FUNCTION :CUTOVER_SCHEMA.events_db_user();

-- Each instances row belongs to the login role that inserted it: a process may change or remove only its own
-- role's rows (rollback counts them), everyone may read them. The schema's owner (doctor --apply, through
-- forget_stale_instance) is exempt.
ALTER TABLE :CUTOVER_SCHEMA.instances ADD COLUMN db_user text NOT NULL DEFAULT session_user;
ALTER TABLE :CUTOVER_SCHEMA.instances ENABLE ROW LEVEL SECURITY;
CREATE POLICY instances_read ON :CUTOVER_SCHEMA.instances FOR SELECT USING (true);
CREATE POLICY instances_insert_own ON :CUTOVER_SCHEMA.instances FOR INSERT WITH CHECK (db_user = session_user);
CREATE POLICY instances_update_own ON :CUTOVER_SCHEMA.instances FOR UPDATE USING (db_user = session_user) WITH CHECK (db_user = session_user);
CREATE POLICY instances_delete_own ON :CUTOVER_SCHEMA.instances FOR DELETE USING (db_user = session_user);

-- doctor --apply: forgets an instance whose heartbeat stopped, whoever's it was, and nothing younger.
CREATE FUNCTION :CUTOVER_SCHEMA.forget_stale_instance(p_id text, p_stale_after_seconds double precision)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM :CUTOVER_SCHEMA.instances AS i
   WHERE i.id = p_id
     AND i.heartbeat_at < pg_catalog.clock_timestamp() - pg_catalog.make_interval(secs => GREATEST(p_stale_after_seconds, 10));
  RETURN FOUND;
END $$;
REVOKE ALL ON FUNCTION :CUTOVER_SCHEMA.forget_stale_instance(text, double precision) FROM PUBLIC;

-- One mapping expression resolved as PostgreSQL understands it: parsed with pg_catalog and the trusted schemas
-- only (never public or pg_temp implicitly), then printed with pg_catalog alone visible, so every other name comes
-- out schema-qualified and every argument's type is explicit (an overload planted later cannot match better). The
-- expression is resolved as a value of its target column's type without the type modifier (p_type): a bare NULL or
-- string literal gets the type an INSERT would give it, and a length or scale is still checked when it is stored.
-- Refused, with SQLSTATE P0C10 and a message naming the fix: an expression that reads a relation the calling
-- login role may not read, calls a VOLATILE function, or uses a temporary object.
-- The expression is parsed under the session's settings (the migration's: register sets them) and printed in styles
-- every session reads back alike (DateStyle ISO, IntervalStyle postgres, exact floats); the settings are then restored.
CREATE FUNCTION :CUTOVER_SCHEMA.resolve_expression(p_what text, p_expression text, p_source regclass, p_type text, p_trusted text[])
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_path text := (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(t), ', ') FROM pg_catalog.unnest(p_trusted || ARRAY['pg_temp']::text[]) AS t);
  v_select text;
  v_cursor refcursor;
  v_volatile text;
  v_styles text[] := ARRAY[pg_catalog.current_setting('DateStyle'), pg_catalog.current_setting('IntervalStyle'), pg_catalog.current_setting('extra_float_digits')];
  v_view pg_catalog.regclass;
  v_first text;
  v_again text;
  v_text text;
  v_dep record;
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, ' || v_path, true);
  v_select := pg_catalog.format('SELECT CAST((%s) AS %s) AS cutover_e FROM %s AS cutover_row', p_expression, p_type, p_source);
  BEGIN
    -- One query, parsed and never run: a cursor cannot be opened on text holding a second statement, and
    -- opening one evaluates nothing. Only then is the same text made a view (lexed alike after its fixed prefix).
    OPEN v_cursor FOR EXECUTE v_select;
    CLOSE v_cursor;
    EXECUTE 'CREATE TEMP VIEW cutover_resolve AS ' || v_select;
  EXCEPTION
    WHEN undefined_function OR undefined_object OR undefined_table THEN
      RAISE EXCEPTION USING ERRCODE = 'P0C10', MESSAGE = pg_catalog.format('%s (%s) could not be resolved in pg_catalog%s: %s; qualify the name with its schema, or list that schema in "trustedSchemas"',
        p_what, p_expression, CASE WHEN pg_catalog.cardinality(p_trusted) > 0 THEN ' and ' || pg_catalog.array_to_string(p_trusted, ', ') ELSE ' (no "trustedSchemas")' END, SQLERRM);
    WHEN OTHERS THEN
      RAISE EXCEPTION USING ERRCODE = 'P0C10', MESSAGE = pg_catalog.format('%s (%s) is not one expression over the columns of %s: %s; fix it', p_what, p_expression, p_source, SQLERRM);
  END;
  v_view := 'pg_temp.cutover_resolve'::pg_catalog.regclass;
  -- Every function the expression calls, operators' and aggregates' included, read off the view's parsed query
  -- (pg_depend records none of pg_catalog's own, which are pinned).
  SELECT p.oid::pg_catalog.regprocedure::text INTO v_volatile
    FROM pg_catalog.pg_rewrite AS r,
         LATERAL pg_catalog.regexp_matches(r.ev_action::text, ':(?:funcid|opfuncid|aggfnoid|winfnoid) (\d+)', 'g') AS m,
         pg_catalog.pg_proc AS p
   WHERE r.ev_class = v_view AND p.oid = m[1]::pg_catalog.oid AND p.provolatile = 'v'
     -- Volatile but harmless: values that differ per call and nothing else (calibrate measures such noise).
     AND NOT (p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
              AND p.proname IN ('random', 'random_normal', 'gen_random_uuid', 'uuidv4', 'uuidv7', 'clock_timestamp', 'timeofday'))
   LIMIT 1;
  IF v_volatile IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'P0C10', MESSAGE = pg_catalog.format('%s (%s) calls %s, which is VOLATILE (it may write, wait or lock, and the net runs it as its installer); a mapping may call STABLE and IMMUTABLE functions, and of the volatile ones only random(), gen_random_uuid(), clock_timestamp() and timeofday()',
      p_what, p_expression, v_volatile);
  END IF;
  FOR v_dep IN
    SELECT d.refclassid, d.refobjid FROM pg_catalog.pg_depend AS d JOIN pg_catalog.pg_rewrite AS r ON r.oid = d.objid
     WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND r.ev_class = v_view
  LOOP
    IF v_dep.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass THEN
      IF (SELECT pg_catalog.pg_is_other_temp_schema(p.pronamespace) OR p.pronamespace = pg_catalog.pg_my_temp_schema() FROM pg_catalog.pg_proc AS p WHERE p.oid = v_dep.refobjid) THEN
        RAISE EXCEPTION USING ERRCODE = 'P0C10', MESSAGE = pg_catalog.format('%s (%s) calls the temporary function %s; a mapping may use only lasting objects', p_what, p_expression, v_dep.refobjid::pg_catalog.regprocedure);
      END IF;
    ELSIF v_dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND v_dep.refobjid <> p_source AND v_dep.refobjid <> v_view THEN
      IF (SELECT c.relpersistence = 't' FROM pg_catalog.pg_class AS c WHERE c.oid = v_dep.refobjid) THEN
        RAISE EXCEPTION USING ERRCODE = 'P0C10', MESSAGE = pg_catalog.format('%s (%s) reads the temporary table %s; a mapping may use only lasting objects', p_what, p_expression, v_dep.refobjid::pg_catalog.regclass);
      END IF;
      -- The net runs the mapping as its installer: a definition may read only what the role that registers it may read.
      IF NOT pg_catalog.has_table_privilege(session_user, v_dep.refobjid, 'SELECT') THEN
        RAISE EXCEPTION USING ERRCODE = 'P0C10', MESSAGE = pg_catalog.format('%s (%s) reads %s, which %I may not read; register as a role that may (or grant it SELECT on that table)',
          p_what, p_expression, v_dep.refobjid::pg_catalog.regclass, session_user);
      END IF;
    ELSIF v_dep.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass THEN
      IF (SELECT t.typnamespace = pg_catalog.pg_my_temp_schema() FROM pg_catalog.pg_type AS t WHERE t.oid = v_dep.refobjid) THEN
        RAISE EXCEPTION USING ERRCODE = 'P0C10', MESSAGE = pg_catalog.format('%s (%s) uses the temporary type %s; a mapping may use only lasting objects', p_what, p_expression, v_dep.refobjid::pg_catalog.regtype);
      END IF;
    END IF;
  END LOOP;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true), pg_catalog.set_config('DateStyle', 'ISO, MDY', true),
          pg_catalog.set_config('IntervalStyle', 'postgres', true), pg_catalog.set_config('extra_float_digits', '3', true);
  v_first := pg_catalog.pg_get_viewdef(v_view, false);
  v_text := pg_catalog.substring(v_first, '^\s*SELECT\s+(.*)\s+AS cutover_e\s+FROM\s.*$');
  -- Column references come out as cutover_row.column (always on PostgreSQL 15, inside subqueries on 16 and later).
  v_text := pg_catalog.regexp_replace(v_text, '\mcutover_row\.', '', 'g');
  DROP VIEW pg_temp.cutover_resolve;
  -- The text without the prefixes must mean exactly what the expression meant: printed again, it prints the same.
  EXECUTE pg_catalog.format('CREATE TEMP VIEW cutover_resolve AS SELECT (%s) AS cutover_e FROM %s AS cutover_row', v_text, p_source);
  v_again := pg_catalog.pg_get_viewdef('pg_temp.cutover_resolve'::pg_catalog.regclass, false);
  DROP VIEW pg_temp.cutover_resolve;
  PERFORM pg_catalog.set_config('DateStyle', v_styles[1], true), pg_catalog.set_config('IntervalStyle', v_styles[2], true),
          pg_catalog.set_config('extra_float_digits', v_styles[3], true);
  IF v_text IS NULL OR v_again IS DISTINCT FROM v_first THEN
    RAISE EXCEPTION USING ERRCODE = 'P0C10', MESSAGE = pg_catalog.format('%s (%s) could not be resolved unambiguously (a column name it uses is also a column of a table it reads); qualify that column with its table',
      p_what, p_expression);
  END IF;
  RETURN v_text;
END $$;
REVOKE ALL ON FUNCTION :CUTOVER_SCHEMA.resolve_expression(text, text, regclass, text, text[]) FROM PUBLIC;

-- The one way a definition is written: resolves every mapping expression (resolve_expression), stores the
-- definition with what it resolved to (definition -> 'resolved', what the DAL, the jobs and the net evaluate),
-- creates or bumps its state row, records the event and notifies running processes, in the caller's transaction.
-- The caller (cutover register) has judged the mapping-change gate; p_forced says whether it overrode it.
CREATE FUNCTION :CUTOVER_SCHEMA.register_definition(p_name text, p_definition jsonb, p_legacy regclass, p_shadow regclass,
                                                    p_actor text, p_reason text, p_forced boolean, p_details jsonb)
RETURNS TABLE (outcome text, definition_version bigint, state_version bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_trusted text[] := ARRAY(SELECT pg_catalog.jsonb_array_elements_text(COALESCE(p_definition -> 'trustedSchemas', '[]')));
  v_resolved jsonb := '{"forward": {}, "backward": {}}';
  v_entry record;
  v_type text;
  v_definition jsonb;
  v_previous jsonb;
  v_state record;
  v_schema text := (SELECT n.nspname FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                     WHERE c.oid = ':CUTOVER_SCHEMA.state'::pg_catalog.regclass);
BEGIN
  IF NOT (pg_catalog.has_table_privilege(session_user, p_legacy, 'SELECT') AND pg_catalog.has_table_privilege(session_user, p_shadow, 'SELECT')
          AND pg_catalog.has_table_privilege(session_user, p_shadow, 'INSERT')) THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = pg_catalog.format('%I may not read %s and write %s, so it may not register a migration between them', session_user, p_legacy, p_shadow);
  END IF;
  FOR v_entry IN SELECT 'forward' AS direction, e.key, e.value, p_legacy AS source, p_shadow AS target FROM pg_catalog.jsonb_each_text(COALESCE(p_definition -> 'forward', '{}')) AS e
                 UNION ALL
                 SELECT 'backward', e.key, e.value, p_shadow, p_legacy FROM pg_catalog.jsonb_each_text(COALESCE(p_definition -> 'backward', '{}')) AS e
  LOOP
    -- The target column's type as the catalog has it (qualified outside pg_catalog under this pinned path), no modifier.
    v_type := (SELECT pg_catalog.format_type(a.atttypid, NULL) FROM pg_catalog.pg_attribute AS a
                WHERE a.attrelid = v_entry.target AND a.attname = v_entry.key AND a.attnum > 0 AND NOT a.attisdropped);
    IF v_type IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'P0C10', MESSAGE = pg_catalog.format('"%s.%s" names no column of %s; map a column of that table', v_entry.direction, v_entry.key, v_entry.target);
    END IF;
    v_resolved := pg_catalog.jsonb_set(v_resolved, ARRAY[v_entry.direction, v_entry.key],
      pg_catalog.to_jsonb(:CUTOVER_SCHEMA.resolve_expression(pg_catalog.format('"%s.%s"', v_entry.direction, v_entry.key), v_entry.value, v_entry.source, v_type, v_trusted)));
  END LOOP;
  v_definition := (p_definition - 'resolved') || pg_catalog.jsonb_build_object('resolved', v_resolved);
  SELECT m.definition INTO v_previous FROM :CUTOVER_SCHEMA.migrations AS m WHERE m.name = p_name FOR UPDATE;
  IF FOUND AND v_previous = v_definition THEN
    SELECT st.definition_version, st.version INTO v_state FROM :CUTOVER_SCHEMA.state AS st WHERE st.migration = p_name;
    RETURN QUERY SELECT 'unchanged'::text, v_state.definition_version::bigint, v_state.version;
    RETURN;
  END IF;
  INSERT INTO :CUTOVER_SCHEMA.migrations AS m (name, definition, legacy_table, shadow_table) VALUES (p_name, v_definition, p_legacy, p_shadow)
    ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, legacy_table = EXCLUDED.legacy_table,
      shadow_table = EXCLUDED.shadow_table, updated_at = pg_catalog.now();
  IF v_previous IS NULL THEN
    INSERT INTO :CUTOVER_SCHEMA.state (migration, updated_by) VALUES (p_name, p_actor) ON CONFLICT (migration) DO NOTHING;
    SELECT st.definition_version, st.version INTO v_state FROM :CUTOVER_SCHEMA.state AS st WHERE st.migration = p_name;
  ELSE
    UPDATE :CUTOVER_SCHEMA.state AS st SET definition_version = st.definition_version + 1, version = st.version + 1,
           updated_at = pg_catalog.clock_timestamp(), updated_by = p_actor
     WHERE st.migration = p_name
     RETURNING st.migration, st.phase, st.read_percent, st.authority, st.version, st.definition_version INTO v_state;
  END IF;
  INSERT INTO :CUTOVER_SCHEMA.events (migration, actor, kind, reason, forced, details)
  VALUES (p_name, p_actor, CASE WHEN v_previous IS NULL THEN 'registered' ELSE 're-registered' END, p_reason, COALESCE(p_forced, false),
          COALESCE(p_details, '{}') || pg_catalog.jsonb_build_object('definition', v_definition, 'definitionVersion', v_state.definition_version));
  IF v_previous IS NULL THEN
    RETURN QUERY SELECT 'registered'::text, v_state.definition_version::bigint, v_state.version;
    RETURN;
  END IF;
  -- Running processes reload the definition, then acknowledge the new state version (as after a phase change).
  PERFORM pg_catalog.pg_notify('cutover_state:' || v_schema, pg_catalog.jsonb_build_object(
    'migration', p_name, 'phase', v_state.phase, 'readPercent', v_state.read_percent, 'authority', v_state.authority,
    'version', v_state.version, 'changedAtMs', (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000)::bigint,
    'definitionVersion', v_state.definition_version)::text);
  RETURN QUERY SELECT 'changed'::text, v_state.definition_version::bigint, v_state.version;
END $$;
REVOKE ALL ON FUNCTION :CUTOVER_SCHEMA.register_definition(text, jsonb, regclass, regclass, text, text, boolean, jsonb) FROM PUBLIC;

-- A guardrail's rollback from an application process: the state of the migration (and of every member of its
-- group, locked in name order) goes back to dual_write at 0 % with legacy authoritative, never anywhere else;
-- complete is refused (it cannot be undone), off and a state already rolled back are left as they are. Returns one
-- row per member changed, and notifies. The same rule as core/phases.ts planRollback, which the CLI applies.
CREATE FUNCTION :CUTOVER_SCHEMA.guardrail_rollback(p_migration text, p_actor text, p_reason text, p_details jsonb)
RETURNS TABLE (migration text, from_phase text, from_percent smallint, version bigint, event_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_group text := (SELECT m.definition ->> 'group' FROM :CUTOVER_SCHEMA.migrations AS m WHERE m.name = p_migration);
  v_members text[];
  v_notices jsonb := '[]';
  v_schema text := (SELECT n.nspname FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                     WHERE c.oid = ':CUTOVER_SCHEMA.state'::pg_catalog.regclass);
  v_order text[] := ARRAY['off', 'dual_write', 'shadow_read', 'ramp', 'shadow_primary', 'complete'];
  v_from text;
  v_from_percent smallint;
  v_row record;
  v_event bigint;
BEGIN
  v_members := CASE WHEN v_group IS NULL THEN ARRAY[p_migration]
                    ELSE ARRAY(SELECT m.name FROM :CUTOVER_SCHEMA.migrations AS m WHERE m.definition ->> 'group' = v_group ORDER BY m.name) END;
  PERFORM 1 FROM :CUTOVER_SCHEMA.state AS st WHERE st.migration = ANY (v_members) ORDER BY st.migration FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = pg_catalog.format('migration %s is not registered', p_migration);
  END IF;
  IF EXISTS (SELECT 1 FROM :CUTOVER_SCHEMA.state AS st WHERE st.migration = ANY (v_members) AND st.phase = 'complete') THEN
    RAISE EXCEPTION USING ERRCODE = 'P0C11', MESSAGE = 'is complete, the one step that cannot be rolled back';
  END IF;
  FOR v_row IN
    WITH before AS (SELECT st.migration, st.phase, st.read_percent FROM :CUTOVER_SCHEMA.state AS st
                     WHERE st.migration = ANY (v_members) AND st.phase <> 'off'
                       AND NOT (st.phase = 'dual_write' AND st.read_percent = 0 AND st.authority = 'legacy'))
    UPDATE :CUTOVER_SCHEMA.state AS st SET phase = 'dual_write', read_percent = 0, authority = 'legacy', version = st.version + 1,
           full_reads_since = NULL, updated_at = pg_catalog.clock_timestamp(), updated_by = p_actor
      FROM before AS b WHERE st.migration = b.migration
    RETURNING st.migration, b.phase AS from_phase, b.read_percent AS from_percent, st.version, st.definition_version,
              (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000)::bigint AS changed_at_ms
  LOOP
    v_notices := v_notices || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
      'migration', v_row.migration, 'phase', 'dual_write', 'readPercent', 0, 'authority', 'legacy', 'version', v_row.version,
      'changedAtMs', v_row.changed_at_ms, 'definitionVersion', v_row.definition_version));
    IF v_from IS NULL OR pg_catalog.array_position(v_order, v_row.from_phase) > pg_catalog.array_position(v_order, v_from) THEN
      v_from := v_row.from_phase;
      v_from_percent := v_row.from_percent;
    END IF;
    IF v_group IS NULL THEN
      INSERT INTO :CUTOVER_SCHEMA.events (migration, actor, kind, reason, from_phase, from_percent, to_phase, to_percent, details)
      VALUES (v_row.migration, p_actor, 'guardrail_rollback', p_reason, v_row.from_phase, v_row.from_percent, 'dual_write', 0, COALESCE(p_details, '{}'))
      RETURNING id INTO v_event;
    END IF;
    migration := v_row.migration; from_phase := v_row.from_phase; from_percent := v_row.from_percent; version := v_row.version; event_id := v_event;
    RETURN NEXT;
  END LOOP;
  IF pg_catalog.jsonb_array_length(v_notices) = 0 THEN RETURN; END IF;
  IF v_group IS NULL THEN
    PERFORM pg_catalog.pg_notify('cutover_state:' || v_schema, (v_notices -> 0)::text);
  ELSE
    INSERT INTO :CUTOVER_SCHEMA.events (migration, group_name, actor, kind, reason, from_phase, from_percent, to_phase, to_percent, details)
    VALUES (NULL, v_group, p_actor, 'guardrail_rollback', p_reason, v_from, v_from_percent, 'dual_write', 0,
            COALESCE(p_details, '{}') || pg_catalog.jsonb_build_object('members', v_members, 'trippedBy', p_migration));
    PERFORM pg_catalog.pg_notify('cutover_state:' || v_schema, pg_catalog.jsonb_build_object('group', v_group, 'members', v_notices)::text);
  END IF;
END $$;
REVOKE ALL ON FUNCTION :CUTOVER_SCHEMA.guardrail_rollback(text, text, text, jsonb) FROM PUBLIC;

-- What 0008 left to PUBLIC.
REVOKE ALL ON FUNCTION :CUTOVER_SCHEMA.bypass_write_totals() FROM PUBLIC;

-- delete_by_key runs with the caller's rights (the DAL's role), but resolved names through the caller's search_path:
-- an overload planted in a writable public (format, unnest) would have run as that role.
ALTER FUNCTION :CUTOVER_SCHEMA.delete_by_key(regclass, text[], regtype[], text[]) SET search_path = pg_catalog, pg_temp;
-- precheck_rows runs as the operator; the texts it runs name everything qualified (tables, column types, the
-- resolved mapping), so its own names are all it resolves: in pg_catalog, never in a schema another role writes to.
ALTER FUNCTION :CUTOVER_SCHEMA.precheck_rows(text, text, text, text, text, jsonb) SET search_path = pg_catalog, pg_temp;
