-- cutover control schema, version 4: each instance's sample of recent routing keys,
-- as distinct keys per rollout bucket (1..100) per migration, never the keys themselves.
-- Written with the heartbeat; `cutover ramp` sums live instances' samples to say how
-- many routing keys a percentage change moves between legacy and the shadow.
ALTER TABLE :CUTOVER_SCHEMA.instances ADD COLUMN routing_sample jsonb NOT NULL DEFAULT '{}';
