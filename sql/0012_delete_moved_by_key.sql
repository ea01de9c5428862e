-- Deletes the rows of one logical key that are in another partition than the
-- one its partition columns now name, with a fresh snapshot: the DAL's copy of
-- a row into a partitioned shadow calls it for each row it copies, so that an
-- update moving a row to another partition moves the shadow row too.
--
-- Why a function: as for delete_by_key (0003), the statement's own snapshot
-- may predate a backfill chunk that committed while the statement waited on
-- its lock; its shadow row in the old partition would be left beside the new
-- one. A VOLATILE function's query takes a new snapshot, so it sees that row.
CREATE FUNCTION :CUTOVER_SCHEMA.delete_moved_by_key(target regclass, key_columns text[], key_types regtype[], key_values text[],
                                                    moved_columns text[], moved_types regtype[], moved_values text[])
RETURNS bigint LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  predicate text;
  deleted bigint;
BEGIN
  SELECT string_agg(format('%I = $1[%s]::%s', k.c, k.i, key_types[k.i]), ' AND ' ORDER BY k.i) INTO predicate
    FROM unnest(key_columns) WITH ORDINALITY AS k(c, i);
  SELECT predicate || format(' AND (%s) IS DISTINCT FROM (%s)',
           string_agg(format('%I', m.c), ', ' ORDER BY m.i), string_agg(format('$2[%s]::%s', m.i, moved_types[m.i]), ', ' ORDER BY m.i)) INTO predicate
    FROM unnest(moved_columns) WITH ORDINALITY AS m(c, i);
  EXECUTE format('DELETE FROM %s WHERE %s', target, predicate) USING key_values, moved_values;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END $$;
REVOKE EXECUTE ON FUNCTION :CUTOVER_SCHEMA.delete_moved_by_key(regclass, text[], regtype[], text[], text[], regtype[], text[]) FROM PUBLIC;
