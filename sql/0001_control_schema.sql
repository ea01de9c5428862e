-- cutover control schema, version 1.
-- :CUTOVER_SCHEMA is replaced by the quoted schema name (default "cutover").
-- Applied in one transaction by `cutover init` (src/store/control-schema.ts).
--
-- Grants (see also sql/README.md):
--   application role: USAGE on the schema; SELECT on migrations, state;
--     INSERT, UPDATE on divergences, instances; INSERT on events (guardrail rollbacks),
--     UPDATE on state (guardrail rollbacks); USAGE on the sequences.
--   operator role (the CLI): all of the above, plus INSERT/UPDATE on migrations,
--     state, jobs, job_chunks, verify_runs.

-- One row per registered migration: its validated definition.
CREATE TABLE :CUTOVER_SCHEMA.migrations (
  name           text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
  definition     jsonb NOT NULL,
  legacy_table   regclass NOT NULL,
  shadow_table   regclass NOT NULL UNIQUE,
  registered_at  timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Current state per migration. `version` increases on every change; processes
-- apply the highest version they have seen (NOTIFY carries it).
CREATE TABLE :CUTOVER_SCHEMA.state (
  migration      text PRIMARY KEY REFERENCES :CUTOVER_SCHEMA.migrations (name) ON DELETE CASCADE,
  phase          text NOT NULL DEFAULT 'off'
                 CHECK (phase IN ('off', 'dual_write', 'shadow_read', 'ramp', 'shadow_primary', 'complete')),
  read_percent   smallint NOT NULL DEFAULT 0 CHECK (read_percent BETWEEN 0 AND 100),
  authority      text NOT NULL DEFAULT 'legacy' CHECK (authority IN ('legacy', 'shadow')),
  version        bigint NOT NULL DEFAULT 1,
  -- when the read percentage last reached 100 (the shadow_primary soak starts there)
  full_reads_since timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  updated_by     text NOT NULL DEFAULT current_user
);

-- Append-only audit trail: who changed what, when, from what, to what, and why.
CREATE TABLE :CUTOVER_SCHEMA.events (
  id             bigserial PRIMARY KEY,
  migration      text NOT NULL REFERENCES :CUTOVER_SCHEMA.migrations (name) ON DELETE CASCADE,
  at             timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor          text NOT NULL,
  kind           text NOT NULL,
  reason         text,
  from_phase     text,
  from_percent   smallint,
  to_phase       text,
  to_percent     smallint,
  forced         boolean NOT NULL DEFAULT false,
  details        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_migration_at ON :CUTOVER_SCHEMA.events (migration, id DESC);

CREATE FUNCTION :CUTOVER_SCHEMA.events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'cutover events are append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON :CUTOVER_SCHEMA.events
  FOR EACH ROW EXECUTE FUNCTION :CUTOVER_SCHEMA.events_append_only();

-- Keys whose two sides were seen to differ. One open row per key (the same key
-- seen again updates it); `repaired_at` closes it.
CREATE TABLE :CUTOVER_SCHEMA.divergences (
  id             bigserial PRIMARY KEY,
  migration      text NOT NULL REFERENCES :CUTOVER_SCHEMA.migrations (name) ON DELETE CASCADE,
  key            jsonb NOT NULL,
  source         text NOT NULL CHECK (source IN ('write', 'read', 'verify', 'calibrate')),
  kind           text NOT NULL DEFAULT 'mismatch'
                 CHECK (kind IN ('mismatch', 'missing_in_shadow', 'missing_in_legacy', 'write_rejected')),
  legacy_hash    text,
  shadow_hash    text,
  legacy_row     jsonb,
  shadow_row     jsonb,
  detail         text,
  first_seen     timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_seen      timestamptz NOT NULL DEFAULT clock_timestamp(),
  seen_count     integer NOT NULL DEFAULT 1,
  repaired_at    timestamptz,
  repaired_by    text
);
CREATE UNIQUE INDEX divergences_open_key ON :CUTOVER_SCHEMA.divergences (migration, key) WHERE repaired_at IS NULL;
CREATE INDEX divergences_last_seen ON :CUTOVER_SCHEMA.divergences (migration, last_seen);

-- A backfill or verify run over the key range that existed when it started.
CREATE TABLE :CUTOVER_SCHEMA.jobs (
  id             bigserial PRIMARY KEY,
  migration      text NOT NULL REFERENCES :CUTOVER_SCHEMA.migrations (name) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('backfill', 'verify')),
  status         text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed', 'abandoned')),
  -- key bounds (JSON arrays, in key order) fixed at the start
  low_key        jsonb,
  high_key       jsonb,
  -- where the next chunk starts (exclusive); null before the first chunk
  cursor_key     jsonb,
  cursor_exhausted boolean NOT NULL DEFAULT false,
  total_estimate bigint,
  rows_done      bigint NOT NULL DEFAULT 0,
  rows_differing bigint NOT NULL DEFAULT 0,
  chunk_rows     integer NOT NULL DEFAULT 1000,
  started_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at    timestamptz,
  started_by     text NOT NULL,
  details        jsonb NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX jobs_one_running ON :CUTOVER_SCHEMA.jobs (migration, kind) WHERE status = 'running';

-- Chunks of a job, leased by workers with FOR UPDATE SKIP LOCKED; a lease that
-- expires (its worker died) is taken over.
CREATE TABLE :CUTOVER_SCHEMA.job_chunks (
  job_id         bigint NOT NULL REFERENCES :CUTOVER_SCHEMA.jobs (id) ON DELETE CASCADE,
  chunk_no       integer NOT NULL,
  low_key        jsonb,          -- exclusive; null = from the start
  high_key       jsonb,          -- inclusive; null = to the end
  status         text NOT NULL DEFAULT 'leased' CHECK (status IN ('leased', 'done')),
  leased_by      text,
  lease_until    timestamptz,
  attempts       integer NOT NULL DEFAULT 1,
  rows           bigint,
  differing      bigint,
  finished_at    timestamptz,
  PRIMARY KEY (job_id, chunk_no)
);

-- Processes that apply state (DAL instances), with the last state version each
-- applied: how `rollback` counts acknowledgements.
CREATE TABLE :CUTOVER_SCHEMA.instances (
  id             text PRIMARY KEY,
  host           text NOT NULL,
  pid            integer NOT NULL,
  backend_pid    integer,
  started_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  heartbeat_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  applied        jsonb NOT NULL DEFAULT '{}'   -- migration name -> applied state version
);
