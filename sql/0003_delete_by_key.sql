-- Deletes one row by key with a fresh snapshot: the DAL's delete calls it for
-- the secondary side after the authoritative delete has finished.
--
-- Why: under READ COMMITTED every part of one statement shares the snapshot
-- taken when the statement started. A DAL delete that waits on a backfill's
-- FOR SHARE lock would, after the backfill commits, delete the legacy row but
-- not see the shadow row the backfill just inserted, leaving a ghost. A
-- VOLATILE function's own query takes a new snapshot, so it sees that row.
CREATE FUNCTION :CUTOVER_SCHEMA.delete_by_key(target regclass, key_columns text[], key_types regtype[], key_values text[])
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  predicate text;
  deleted bigint;
BEGIN
  SELECT string_agg(format('%I = $1[%s]::%s', k.c, k.i, key_types[k.i]), ' AND ' ORDER BY k.i) INTO predicate
    FROM unnest(key_columns) WITH ORDINALITY AS k(c, i);
  EXECUTE format('DELETE FROM %s WHERE %s', target, predicate) USING key_values;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END $$;
