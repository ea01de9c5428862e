-- cutover control schema, version 6: how each instance follows state. `listen`: its
-- LISTEN connection is proven (its own notification came back); `poll`: it is not
-- (a transaction pooler drops LISTEN), so it polls every 500 ms; `poll_only`: it
-- was configured not to listen. backend_pid is now the proven LISTEN connection's
-- pg_backend_pid(), never a pooler's made-up process id, and NULL while polling.
ALTER TABLE :CUTOVER_SCHEMA.instances ADD COLUMN follow_mode text
  CHECK (follow_mode IN ('listen', 'poll', 'poll_only'));
